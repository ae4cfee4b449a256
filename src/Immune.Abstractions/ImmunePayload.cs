namespace Immune;

/// <summary>The immune event an envelope carries. The envelope's <see cref="EventEnvelope.Type"/> selects the concrete payload.</summary>
/// <param name="EventId">The id of the recorded event.</param>
/// <param name="Severity">The event's severity (for a severity change: the new one).</param>
/// <param name="Type">The event's type.</param>
/// <param name="Message">The event's message.</param>
public abstract record ImmunePayload(long EventId, ImmuneSeverity Severity, ImmuneEventType Type, string Message)
{
    /// <summary>Gets the agent that observed the event, if any.</summary>
    public string? AgentId { get; init; }

    /// <summary>Gets the module the event concerns, if any.</summary>
    public string? Module { get; init; }

    /// <summary>Gets the event's structured details, if any.</summary>
    public IReadOnlyDictionary<string, object?>? Meta { get; init; }
}
