namespace Immune;

/// <summary>
/// An open incident of the fleet: an event whose current severity is WARNING or CRITICAL, whatever its age, as
/// <see cref="ImmuneFleetView.GetIncidents"/> lists it.
/// </summary>
public sealed record ImmuneFleetIncident
{
    /// <summary>Gets the service that recorded the event: its envelopes' <see cref="EventEnvelope.Source"/>.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the instance that recorded it (<see cref="EventMeta.InstanceId"/>); null when its envelopes carry none (or an empty one).</summary>
    public required string? InstanceId { get; init; }

    /// <summary>Gets the event's id within its instance (<see cref="ImmunePayload.EventId"/>).</summary>
    public required long EventId { get; init; }

    /// <summary>Gets its current severity: WARNING or CRITICAL.</summary>
    public required ImmuneSeverity Severity { get; init; }

    /// <summary>Gets its type.</summary>
    public required ImmuneEventType Type { get; init; }

    /// <summary>Gets its message; the view keeps at most 4,096 characters of it, and of <see cref="AgentId"/> and <see cref="Module"/>.</summary>
    public required string Message { get; init; }

    /// <summary>Gets the agent that reported it, if any.</summary>
    public required string? AgentId { get; init; }

    /// <summary>Gets the module it concerns, if any.</summary>
    public required string? Module { get; init; }

    /// <summary>Gets when it was recorded: its <c>published_at</c>, in UTC.</summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>Gets its latest observation of any kind (publication, critical event, severity change or repeat report), in UTC.</summary>
    public required DateTimeOffset ChangedAt { get; init; }

    /// <summary>Gets how many times it happened, from its repeat reports (the highest count seen); 1 without any.</summary>
    public required long Occurrences { get; init; }

    /// <summary>
    /// Gets the latest time any envelope of its instance (<see cref="Source"/>, <see cref="InstanceId"/>) carried, in UTC:
    /// an instance that fell silent shows here, while its incident stays open.
    /// </summary>
    public DateTimeOffset LastSeenAt { get; init; }
}
