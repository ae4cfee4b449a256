namespace Immune;

/// <summary>A versioned envelope (Charter v1.0) around one immune payload, as published to an <see cref="IEventStream"/>.</summary>
/// <param name="Id"><c>evt_immune_&lt;unix milliseconds&gt;_&lt;16 hex digits&gt;</c>; never repeated within a process.</param>
/// <param name="Type">One of <see cref="ImmuneEventTypes"/>; it selects the payload type.</param>
/// <param name="Source">Who published it: <c>"immune_service"</c> unless configured otherwise.</param>
/// <param name="Target">The intended receiver; <see langword="null"/> for a broadcast.</param>
/// <param name="Timestamp">When the envelope's fact happened: the event's recording time, or the change time for a severity change.</param>
/// <param name="Payload">The immune event the envelope carries.</param>
/// <param name="Meta">Correlation id and Charter version.</param>
public sealed record EventEnvelope(
    string Id,
    string Type,
    string Source,
    string? Target,
    DateTimeOffset Timestamp,
    ImmunePayload Payload,
    EventMeta Meta);
