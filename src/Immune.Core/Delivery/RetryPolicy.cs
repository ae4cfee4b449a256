namespace Immune.Delivery;

/// <summary>
/// The decisions of a retry, apart from the waiting and calling that carry them out (<see cref="DeliveryAttempts"/>):
/// whether an attempt's outcome ends the retries, and how long to wait before the next attempt. Pure functions of
/// their arguments, each branch pinned by an exact-value test, as Serilog's <c>FailureAwareBatchScheduler</c> is.
/// </summary>
internal static class RetryPolicy
{
    /// <summary>What an attempt's outcome means for the unit being retried.</summary>
    public enum End
    {
        /// <summary>Not over: wait, then try the unit again.</summary>
        None,

        /// <summary>The unit's result is final (delivered, or out of attempts): settle it with this outcome.</summary>
        Settle,

        /// <summary>The service stopped: give up the unit and everything after it in the batch at once.</summary>
        GiveUpRest,
    }

    /// <summary>Whether attempt number <paramref name="attempt"/>, which ended with <paramref name="outcome"/>, ends the retries.</summary>
    public static End After(Outcome outcome, int attempt, int maxAttempts) => outcome switch
    {
        Outcome.DroppedShutdown => End.GiveUpRest,
        Outcome.Delivered => End.Settle,
        _ => attempt >= maxAttempts ? End.Settle : End.None,
    };

    /// <summary>
    /// How long to wait before the next attempt: the <paramref name="backoff"/>, unless the head's delivery time runs out
    /// first; then until its deadline, where one more attempt decides (it fails for its deadline only once tried after it).
    /// </summary>
    public static TimeSpan Wait(TimeSpan timeLeft, TimeSpan backoff)
        => timeLeft < TimeSpan.Zero ? TimeSpan.Zero : timeLeft < backoff ? timeLeft : backoff;
}
