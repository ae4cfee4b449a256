using System.Diagnostics;

namespace Immune.Delivery;

/// <summary>
/// Turns a <see cref="PendingEnvelope"/> into an <see cref="EventEnvelope"/>. One per pipeline, used by one thread at a
/// time: without a spool the delivery loop builds every envelope; with one, the write turn does (the loop gets them built).
/// </summary>
internal sealed class EnvelopeFactory(string source, string instanceId)
{
    // The envelopes of one event follow each other: reuse their meta rather than format the trace id twice.
    private ActivityTraceId _lastCorrelation;
    private EventMeta? _lastMeta;

    public EventEnvelope Create(in PendingEnvelope pending)
    {
        if (pending.Built is { } built)
        {
            return built;
        }

        ImmuneEvent e = pending.Event;
        ImmunePayload payload = pending.Kind switch
        {
            EnvelopeKind.EventPublished => new ImmuneEventPublishedPayload(e.Id, e.Severity, e.Type, e.Message, pending.Timestamp)
            {
                AgentId = e.AgentId, Module = e.Module, Meta = e.Meta,
            },
            EnvelopeKind.CriticalEvent => new ImmuneCriticalEventPayload(e.Id, e.Severity, e.Type, e.Message, pending.Timestamp)
            {
                AgentId = e.AgentId, Module = e.Module, Meta = e.Meta,
            },
            EnvelopeKind.SeverityChanged => new ImmuneSeverityChangedPayload(e.Id, e.Severity, e.Type, e.Message, pending.PreviousSeverity, pending.Timestamp)
            {
                AgentId = e.AgentId, Module = e.Module, Meta = e.Meta,
            },
            EnvelopeKind.EventRepeated => new ImmuneEventRepeatedPayload(e.Id, e.Severity, e.Type, e.Message, e.Occurrences, e.CreatedAt, e.LastSeenAt)
            {
                AgentId = e.AgentId, Module = e.Module, Meta = e.Meta,
            },
            _ => throw new ArgumentOutOfRangeException(nameof(pending), pending.Kind, "An envelope kind without a payload."),
        };

        if (_lastMeta is null || _lastCorrelation != pending.Correlation)
        {
            _lastCorrelation = pending.Correlation;
            _lastMeta = new EventMeta(pending.Correlation.ToHexString()) { InstanceId = instanceId };
        }

        return new EventEnvelope(EnvelopeIds.Next(pending.Timestamp), pending.Type, source, Target: null, pending.Timestamp, payload, _lastMeta);
    }
}
