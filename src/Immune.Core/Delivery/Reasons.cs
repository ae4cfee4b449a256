namespace Immune.Delivery;

/// <summary>The wire names of the reasons (metric tags and log text; listed in EVENTS.md): one table, which throws on an outcome it does not know.</summary>
internal static class Reasons
{
    public const string QueueFull = "queue_full", Shutdown = "shutdown", Timeout = "timeout", StreamError = "stream_error", Rejected = "rejected", SpoolFull = "spool_full";

    public static string Of(Outcome outcome) => outcome switch
    {
        Outcome.Delivered => "delivered",
        Outcome.FailedTimeout => Timeout,
        Outcome.FailedStreamError => StreamError,
        Outcome.FailedRejected => Rejected,
        Outcome.DroppedShutdown => Shutdown,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "An outcome without a wire name."),
    };
}
