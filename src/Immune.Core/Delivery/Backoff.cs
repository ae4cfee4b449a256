namespace Immune.Delivery;

/// <summary>
/// The delay before a retry: doubling from a base delay up to a cap (<see cref="ImmuneOptions.MaxRetryDelay"/>), then
/// ±20% jitter against synchronized retries.
/// </summary>
/// <remarks>A pure function: the randomness comes in as <c>jitter</c>, so tests state exact values.</remarks>
internal static class Backoff
{
    /// <summary>
    /// Gets the delay after failed attempt <paramref name="attempt"/> (1-based):
    /// <c>min(baseDelay · 2^(attempt-1), max(baseDelay, maxDelay))</c>, times a jitter factor from 0.8 to 1.2.
    /// </summary>
    /// <param name="attempt">The attempt that failed: 1 for the first.</param>
    /// <param name="baseDelay">The delay after the first attempt, before jitter.</param>
    /// <param name="maxDelay">The longest delay before jitter; a base delay above it wins.</param>
    /// <param name="jitter">A number in [0, 1): 0 gives 80% of the nominal delay, 0.5 exactly it, towards 1 gives 120%.</param>
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, double jitter)
    {
        double cap = Math.Max(baseDelay.Ticks, maxDelay.Ticks);
        double nominal = Math.Min(baseDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 62)), cap);
        return TimeSpan.FromTicks((long)(nominal * (0.8 + (0.4 * jitter))));
    }
}
