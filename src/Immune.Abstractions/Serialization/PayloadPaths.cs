namespace Immune.Serialization;

/// <summary>The names error messages give a payload's properties: under <c>payload</c> in an envelope, under <c>data</c> in a CloudEvent.</summary>
internal sealed class PayloadPaths(string prefix)
{
    public static readonly PayloadPaths Envelope = new("payload");
    public static readonly PayloadPaths CloudEvent = new("data");

    public string EventId { get; } = prefix + ".event_id";
    public string Severity { get; } = prefix + ".severity";
    public string Type { get; } = prefix + ".type";
    public string Message { get; } = prefix + ".message";
    public string AgentId { get; } = prefix + ".agent_id";
    public string Module { get; } = prefix + ".module";
    public string Meta { get; } = prefix + ".meta";
    public string PublishedAt { get; } = prefix + ".published_at";
    public string CriticalAt { get; } = prefix + ".critical_at";
    public string ChangedAt { get; } = prefix + ".changed_at";
    public string PreviousSeverity { get; } = prefix + ".previous_severity";
    public string Occurrences { get; } = prefix + ".occurrences";
    public string FirstSeenAt { get; } = prefix + ".first_seen_at";
    public string LastSeenAt { get; } = prefix + ".last_seen_at";
}
