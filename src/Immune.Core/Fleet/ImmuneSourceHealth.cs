namespace Immune;

/// <summary>How healthy one source (one service, all its instances) has been over the window of an <see cref="ImmuneFleetSummary"/>.</summary>
public sealed record ImmuneSourceHealth
{
    /// <summary>Gets the source: the <see cref="EventEnvelope.Source"/> its envelopes carry.</summary>
    public required string Source { get; init; }

    /// <summary>Gets the source's status, by the same rule as <see cref="ImmuneFleetSummary.Status"/>.</summary>
    public required ImmuneHealthStatus Status { get; init; }

    /// <summary>Gets the number of the source's events recorded in the window.</summary>
    public required int ActiveIssues { get; init; }

    /// <summary>Gets the number of the source's events recorded in the window whose latest severity is CRITICAL.</summary>
    public required int CriticalIssues { get; init; }

    /// <summary>Gets the number of the source's instances (<see cref="EventMeta.InstanceId"/>) with an event recorded in
    /// the window; envelopes without an instance id (or with an empty one) count as one more instance.</summary>
    public required int Instances { get; init; }

    /// <summary>Gets how many of the source's incidents are open now (WARNING or CRITICAL), whatever their age.</summary>
    public int OpenIncidents { get; init; }

    /// <summary>Gets how many of the source's open incidents are CRITICAL.</summary>
    public int OpenCriticalIncidents { get; init; }
}
