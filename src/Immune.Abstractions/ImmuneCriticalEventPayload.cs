namespace Immune;

/// <summary>The payload of <c>immune.critical_event</c>.</summary>
/// <param name="EventId">The id of the recorded event.</param>
/// <param name="Severity">Always <see cref="ImmuneSeverity.Critical"/> when written by the service.</param>
/// <param name="Type">The event's type.</param>
/// <param name="Message">The event's message.</param>
/// <param name="CriticalAt">When the event became CRITICAL: its recording time, or the time of the escalation.</param>
public sealed record ImmuneCriticalEventPayload(long EventId, ImmuneSeverity Severity, ImmuneEventType Type, string Message, DateTimeOffset CriticalAt)
    : ImmunePayload(EventId, Severity, Type, Message);
