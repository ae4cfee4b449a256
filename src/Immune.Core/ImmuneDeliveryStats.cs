namespace Immune;

/// <summary>
/// Delivery counts of an <see cref="ImmuneService"/>, per envelope (not per attempt), taken atomically:
/// <c>Queued == Delivered + Failed + Dropped + Pending</c> holds for every snapshot.
/// </summary>
public sealed record ImmuneDeliveryStats
{
    /// <summary>Gets the number of envelopes handed to the delivery pipeline since the service started.</summary>
    public long Queued { get; init; }

    /// <summary>Gets the number of envelopes the stream accepted.</summary>
    public long Delivered { get; init; }

    /// <summary>Gets the number of envelopes that failed: <see cref="FailedTimeout"/> + <see cref="FailedStreamError"/> + <see cref="FailedRejected"/>.</summary>
    public long Failed { get; init; }

    /// <summary>Gets the number of envelopes given up without a final attempt: <see cref="DroppedQueueFull"/> + <see cref="DroppedShutdown"/> + <see cref="DroppedSpoolFull"/>.</summary>
    public long Dropped { get; init; }

    /// <summary>Gets the number of envelopes waiting in the queue or being delivered.</summary>
    public long Pending { get; init; }

    /// <summary>Gets the number of failed envelopes whose last attempt timed out.</summary>
    public long FailedTimeout { get; init; }

    /// <summary>Gets the number of failed envelopes whose last attempt threw (including a stream's own cancellation).</summary>
    public long FailedStreamError { get; init; }

    /// <summary>
    /// Gets the number of envelopes the stream rejected for good (it threw <see cref="EnvelopeRejectedException"/> for
    /// them: too large for the broker, refused by its rules); each failed at once, with no further attempt.
    /// </summary>
    public long FailedRejected { get; init; }

    /// <summary>Gets the number of envelopes shed because the queue was full (INFO and WARNING before CRITICAL).</summary>
    public long DroppedQueueFull { get; init; }

    /// <summary>Gets the number of envelopes still pending when shutdown ran out of time.</summary>
    public long DroppedShutdown { get; init; }

    /// <summary>Gets the number of envelopes shed because the durable spool was full (INFO and WARNING before CRITICAL).</summary>
    public long DroppedSpoolFull { get; init; }

    /// <summary>
    /// Gets the number of envelopes a previous service on the same <see cref="ImmuneOptions.SpoolDirectory"/> left
    /// unsettled and this one queued again at start; they are included in <see cref="Queued"/>.
    /// </summary>
    public long Replayed { get; init; }

    /// <summary>
    /// Gets when (on the service's <see cref="TimeProvider"/>) the current run of failed attempts to publish began, or
    /// null while the last attempt succeeded (or none was made). Envelopes wait, in order, while it is set.
    /// </summary>
    public DateTimeOffset? FailingSince { get; init; }
}
