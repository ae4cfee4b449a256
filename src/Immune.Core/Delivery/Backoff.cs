namespace Immune.Delivery;

/// <summary>The delay before a retry: exponential from a base delay, with ±20% jitter against synchronized retries.</summary>
/// <remarks>A pure function: the randomness comes in as <c>jitter</c>, so tests state exact values.</remarks>
internal static class Backoff
{
    /// <summary>The longest delay ever returned.</summary>
    public static readonly TimeSpan Cap = TimeSpan.FromMinutes(5);

    /// <summary>Gets the delay after failed attempt <paramref name="attempt"/> (1-based).</summary>
    /// <param name="attempt">The attempt that failed: 1 for the first.</param>
    /// <param name="baseDelay">The delay after the first attempt, before jitter.</param>
    /// <param name="jitter">A number in [0, 1): 0 gives 80% of the nominal delay, 0.5 exactly it, towards 1 gives 120%.</param>
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, double jitter)
    {
        double factor = Math.Pow(2, attempt - 1) * (0.8 + (0.4 * jitter));
        return TimeSpan.FromTicks((long)Math.Min(baseDelay.Ticks * factor, Cap.Ticks));
    }
}
