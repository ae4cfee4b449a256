namespace Immune.Delivery;

/// <summary>Counts of settled envelopes by outcome (queue-full drops are counted at enqueue).</summary>
internal struct DeliveryTally
{
    public long Delivered, FailedTimeout, FailedStreamError, FailedRejected, DroppedShutdown, DroppedQueueFull, DroppedSpoolFull, Replayed;

    public void Add(Outcome outcome, long count = 1)
    {
        switch (outcome)
        {
            case Outcome.Delivered: Delivered += count; break;
            case Outcome.FailedTimeout: FailedTimeout += count; break;
            case Outcome.FailedStreamError: FailedStreamError += count; break;
            case Outcome.FailedRejected: FailedRejected += count; break;
            case Outcome.DroppedShutdown: DroppedShutdown += count; break;
            default: throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "An outcome the tally does not count.");
        }
    }

    public readonly ImmuneDeliveryStats ToStats(long queued, long pending, DateTimeOffset? failingSince) => new()
    {
        Queued = queued,
        Delivered = Delivered,
        Failed = FailedTimeout + FailedStreamError + FailedRejected,
        Dropped = DroppedQueueFull + DroppedSpoolFull + DroppedShutdown,
        Pending = pending,
        FailedTimeout = FailedTimeout,
        FailedStreamError = FailedStreamError,
        FailedRejected = FailedRejected,
        DroppedQueueFull = DroppedQueueFull,
        DroppedShutdown = DroppedShutdown,
        DroppedSpoolFull = DroppedSpoolFull,
        Replayed = Replayed,
        FailingSince = failingSince,
    };
}
