namespace Immune;

/// <summary>The payload of <c>immune.event_published</c>.</summary>
/// <param name="EventId">The id of the recorded event.</param>
/// <param name="Severity">The event's severity when it was recorded.</param>
/// <param name="Type">The event's type.</param>
/// <param name="Message">The event's message.</param>
/// <param name="PublishedAt">When the event was recorded (its <see cref="ImmuneEvent.CreatedAt"/>).</param>
public sealed record ImmuneEventPublishedPayload(long EventId, ImmuneSeverity Severity, ImmuneEventType Type, string Message, DateTimeOffset PublishedAt)
    : ImmunePayload(EventId, Severity, Type, Message);
