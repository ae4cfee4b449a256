namespace Immune;

/// <summary>The payload of <c>immune.severity_changed</c>.</summary>
/// <param name="EventId">The id of the re-graded event.</param>
/// <param name="Severity">The new severity.</param>
/// <param name="Type">The event's type.</param>
/// <param name="Message">The event's message.</param>
/// <param name="PreviousSeverity">The severity before the change.</param>
/// <param name="ChangedAt">When the change was made.</param>
public sealed record ImmuneSeverityChangedPayload(
    long EventId,
    ImmuneSeverity Severity,
    ImmuneEventType Type,
    string Message,
    ImmuneSeverity PreviousSeverity,
    DateTimeOffset ChangedAt)
    : ImmunePayload(EventId, Severity, Type, Message);
