namespace Immune.Delivery;

/// <summary>How one envelope (or one attempt) ended.</summary>
internal enum Outcome : byte
{
    Delivered,
    FailedTimeout,
    FailedStreamError,
    DroppedShutdown,
}

/// <summary>One attempt's end, with what the stream threw (or the timeout) when it failed.</summary>
internal readonly record struct Attempt(Outcome Outcome, Exception? Exception);

/// <summary>An envelope's final result: its outcome, the attempts it took, the last error and the time from the first attempt.</summary>
internal readonly record struct Delivery(Outcome Outcome, int Attempts, Exception? Exception, TimeSpan Duration);

/// <summary>Counts of settled envelopes by outcome (queue-full drops are counted at enqueue).</summary>
internal struct Tally
{
    public long Delivered, FailedTimeout, FailedStreamError, DroppedShutdown, DroppedQueueFull, DroppedSpoolFull, Replayed;

    public void Add(Outcome outcome, long count = 1)
    {
        switch (outcome)
        {
            case Outcome.Delivered: Delivered += count; break;
            case Outcome.FailedTimeout: FailedTimeout += count; break;
            case Outcome.FailedStreamError: FailedStreamError += count; break;
            default: DroppedShutdown += count; break;
        }
    }

    public readonly ImmuneDeliveryStats ToStats(long queued, long pending, DateTimeOffset? failingSince) => new()
    {
        Queued = queued,
        Delivered = Delivered,
        Failed = FailedTimeout + FailedStreamError,
        Dropped = DroppedQueueFull + DroppedSpoolFull + DroppedShutdown,
        Pending = pending,
        FailedTimeout = FailedTimeout,
        FailedStreamError = FailedStreamError,
        DroppedQueueFull = DroppedQueueFull,
        DroppedShutdown = DroppedShutdown,
        DroppedSpoolFull = DroppedSpoolFull,
        Replayed = Replayed,
        FailingSince = failingSince,
    };
}

/// <summary>The wire names of the reasons (metric tags and log text; listed in EVENTS.md).</summary>
internal static class Reasons
{
    public const string QueueFull = "queue_full", Shutdown = "shutdown", Timeout = "timeout", StreamError = "stream_error", SpoolFull = "spool_full";

    public static string Of(Outcome outcome) => outcome switch
    {
        Outcome.FailedTimeout => Timeout,
        Outcome.FailedStreamError => StreamError,
        Outcome.DroppedShutdown => Shutdown,
        _ => "delivered",
    };
}
