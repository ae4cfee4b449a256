namespace Immune;

/// <summary>The payload of <c>immune.event_repeated</c>: how often a folded event happened within its fold window.</summary>
/// <param name="EventId">The id of the event the repeats were folded into.</param>
/// <param name="Severity">The event's severity when the window closed.</param>
/// <param name="Type">The event's type.</param>
/// <param name="Message">The event's message.</param>
/// <param name="Occurrences">How many times the event happened in all, the first time included; at least 2.</param>
/// <param name="FirstSeenAt">When it happened first: the event's recording time.</param>
/// <param name="LastSeenAt">When it happened last.</param>
public sealed record ImmuneEventRepeatedPayload(
    long EventId,
    ImmuneSeverity Severity,
    ImmuneEventType Type,
    string Message,
    long Occurrences,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset LastSeenAt)
    : ImmunePayload(EventId, Severity, Type, Message);
