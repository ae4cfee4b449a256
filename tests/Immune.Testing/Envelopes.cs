namespace Immune.Testing;

/// <summary>Envelopes as a producer service writes them, for the consumer side's tests: an event's publication, its critical event, a severity change.</summary>
public static class Envelopes
{
    public static EventEnvelope Published(string source, string? instance, long eventId, ImmuneSeverity severity, DateTimeOffset at, string message = "m", string? module = null)
        => new($"evt_{source}_{instance}_{eventId}_p", ImmuneEventTypes.EventPublished, source, null, at,
            new ImmuneEventPublishedPayload(eventId, severity, ImmuneEventType.PolicyViolation, message, at) { Module = module },
            new EventMeta($"c_{eventId}") { InstanceId = instance });

    public static EventEnvelope Critical(EventEnvelope published, DateTimeOffset at)
        => published with
        {
            Id = $"{published.Id}_critical_{at.UtcTicks}",
            Type = ImmuneEventTypes.CriticalEvent,
            Timestamp = at,
            Payload = new ImmuneCriticalEventPayload(published.Payload.EventId, ImmuneSeverity.Critical, published.Payload.Type, published.Payload.Message, at) { Module = published.Payload.Module },
        };

    public static EventEnvelope Changed(EventEnvelope published, ImmuneSeverity from, ImmuneSeverity to, DateTimeOffset at)
        => published with
        {
            Id = $"{published.Id}_changed_{to}_{at.UtcTicks}",
            Type = ImmuneEventTypes.SeverityChanged,
            Timestamp = at,
            Payload = new ImmuneSeverityChangedPayload(published.Payload.EventId, to, published.Payload.Type, published.Payload.Message, from, at),
        };

    /// <summary>What a service publishes for a new event: its publication and, when CRITICAL, its critical event.</summary>
    public static IEnumerable<EventEnvelope> Of(string source, string? instance, long eventId, ImmuneSeverity severity, DateTimeOffset at, string message = "m")
    {
        EventEnvelope published = Published(source, instance, eventId, severity, at, message);
        yield return published;
        if (severity == ImmuneSeverity.Critical)
        {
            yield return Critical(published, at);
        }
    }
}
