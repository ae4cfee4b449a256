namespace Immune;

/// <summary>An immune event as a caller reports it, before it is recorded.</summary>
/// <param name="Severity">How serious the event is. Must be a defined <see cref="ImmuneSeverity"/>.</param>
/// <param name="Type">What kind of event it is. Must be a defined <see cref="ImmuneEventType"/>.</param>
/// <param name="Message">What happened, for humans. Must not be null, empty or whitespace.</param>
public sealed record NewImmuneEvent(ImmuneSeverity Severity, ImmuneEventType Type, string Message)
{
    /// <summary>Gets the agent (process, worker, tenant, …) that observed the event, if any.</summary>
    public string? AgentId { get; init; }

    /// <summary>Gets the module or component the event concerns, if any.</summary>
    public string? Module { get; init; }

    /// <summary>
    /// Gets structured details, if any. Values must be JSON-representable: <see langword="null"/>, strings,
    /// booleans, finite numbers, <see cref="Guid"/>, <see cref="DateTimeOffset"/>, <see cref="DateTime"/>,
    /// dictionaries with string keys and lists of those. The service copies the meta deeply when it records the event.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Meta { get; init; }
}
