namespace Immune;

/// <summary>The envelope's metadata (Charter v1.0).</summary>
/// <param name="CorrelationId">Ties together the envelopes of one immune event or change, and the caller's trace: the ambient W3C trace id when there is one.</param>
public sealed record EventMeta(string CorrelationId)
{
    /// <summary>The Charter version this library writes: <c>"1.0"</c>.</summary>
    public const string CurrentVersion = "1.0";

    /// <summary>Gets the Charter version of the envelope.</summary>
    /// <value>The default value is <see cref="CurrentVersion"/>.</value>
    public string Version { get; init; } = CurrentVersion;

    /// <summary>
    /// Gets the producing service instance: 16 random hex digits drawn when the instance started (wire:
    /// <c>meta.instance_id</c>). Event ids restart at 1 in every process, so an event's identity across a fleet is
    /// (<see cref="EventEnvelope.Source"/>, <see cref="InstanceId"/>, <see cref="ImmunePayload.EventId"/>).
    /// </summary>
    /// <value><see langword="null"/> in envelopes of producers that do not write it.</value>
    public string? InstanceId { get; init; }
}
