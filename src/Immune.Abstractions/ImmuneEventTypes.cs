namespace Immune;

/// <summary>The envelope types the service publishes (<see cref="EventEnvelope.Type"/>).</summary>
public static class ImmuneEventTypes
{
    /// <summary><c>immune.event_published</c>: every recorded event. Payload: <see cref="ImmuneEventPublishedPayload"/>.</summary>
    public const string EventPublished = "immune.event_published";

    /// <summary><c>immune.critical_event</c>: a CRITICAL event, after its <see cref="EventPublished"/> envelope, or an escalation to CRITICAL. Payload: <see cref="ImmuneCriticalEventPayload"/>.</summary>
    public const string CriticalEvent = "immune.critical_event";

    /// <summary><c>immune.severity_changed</c>: a recorded event was re-graded. Payload: <see cref="ImmuneSeverityChangedPayload"/>.</summary>
    public const string SeverityChanged = "immune.severity_changed";

    /// <summary>
    /// <c>immune.event_repeated</c>: identical publishes were folded into a recorded event, and its fold window closed.
    /// Payload: <see cref="ImmuneEventRepeatedPayload"/>.
    /// </summary>
    public const string EventRepeated = "immune.event_repeated";
}
