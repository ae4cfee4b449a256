using System.Diagnostics;

namespace Immune.Delivery;

/// <summary>
/// An envelope waiting for delivery, kept as the facts it is made of. The envelope object, its id and correlation
/// string are built by the delivery loop, off the caller's path, so that recording an event allocates only the event.
/// </summary>
/// <param name="Sequence">Position in the delivery order; strictly increasing, assigned under the service lock.</param>
/// <param name="Kind">Which envelope this is.</param>
/// <param name="Event">The event as it was when the envelope was queued (with the new severity for a change, with its occurrences for a repeat report).</param>
/// <param name="Timestamp">The event's CreatedAt, the change time, or the time a repeat report was made.</param>
/// <param name="PreviousSeverity">For <see cref="EnvelopeKind.SeverityChanged"/>: the severity before.</param>
/// <param name="Correlation">The caller's trace id, or a fresh one; shared by all envelopes of one call.</param>
internal readonly record struct PendingEnvelope(
    long Sequence,
    EnvelopeKind Kind,
    ImmuneEvent Event,
    DateTimeOffset Timestamp,
    ImmuneSeverity PreviousSeverity,
    ActivityTraceId Correlation)
{
    /// <summary>An envelope read back from the spool: the event is rebuilt from its payload, for shedding and logs.</summary>
    public static PendingEnvelope Replayed(long sequence, EventEnvelope envelope)
    {
        ImmunePayload p = envelope.Payload;
        EnvelopeKind kind = EnvelopeKinds.Of(envelope.Type);
        var source = new ImmuneEvent(p.EventId, envelope.Timestamp, p.Severity, p.Type, p.Message);
        return new PendingEnvelope(sequence, kind, source, envelope.Timestamp, default, default) { Built = envelope };
    }

    /// <summary>Gets or sets the envelope when it was built before queueing (to be spooled, or replayed from the spool).</summary>
    public EventEnvelope? Built { get; init; }

    /// <summary>Gets when the pipeline queued it (or replayed it from the spool), as a <see cref="TimeProvider"/> timestamp: its delivery time counts from here.</summary>
    public long QueuedAt { get; init; }

    /// <summary>
    /// Gets whether <c>immune.critical_event</c> follows this envelope (the next sequence), as the second envelope of the
    /// same CRITICAL publish or escalation: the two are admitted and shed together.
    /// </summary>
    public bool Leads { get; init; }

    /// <summary>Gets whether the queue must keep this envelope ahead of INFO and WARNING ones.</summary>
    public bool IsCritical => Event.Severity == ImmuneSeverity.Critical;

    public string Type => EnvelopeKinds.TypeOf(Kind);
}
