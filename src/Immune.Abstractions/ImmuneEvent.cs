namespace Immune;

/// <summary>An immune event as the service recorded it.</summary>
/// <param name="Id">The event id: starts at 1 and strictly increases per service instance.</param>
/// <param name="CreatedAt">When the service recorded the event, from its <see cref="TimeProvider"/>. Never decreases from one event to the next.</param>
/// <param name="Severity">How serious the event is now (a severity change replaces the stored event).</param>
/// <param name="Type">What kind of event it is.</param>
/// <param name="Message">What happened.</param>
public sealed record ImmuneEvent(long Id, DateTimeOffset CreatedAt, ImmuneSeverity Severity, ImmuneEventType Type, string Message)
{
    /// <summary>Gets the agent that observed the event, if any.</summary>
    public string? AgentId { get; init; }

    /// <summary>Gets the module or component the event concerns, if any.</summary>
    public string? Module { get; init; }

    /// <summary>Gets the structured details, if any: plain values, nested read-only dictionaries and lists.</summary>
    public IReadOnlyDictionary<string, object?>? Meta { get; init; }

    /// <summary>
    /// Gets how many times the event happened: 1, unless identical publishes were folded into it within the service's
    /// fold window (<c>ImmuneOptions.FoldWindow</c>).
    /// </summary>
    public long Occurrences { get; init; } = 1;

    /// <summary>Gets when the event last happened: <see cref="CreatedAt"/>, or the time of the latest publish folded into it.</summary>
    public DateTimeOffset LastSeenAt
    {
        get => _lastSeenAt == default ? CreatedAt : _lastSeenAt;
        init => _lastSeenAt = value;
    }

    private readonly DateTimeOffset _lastSeenAt;
}
