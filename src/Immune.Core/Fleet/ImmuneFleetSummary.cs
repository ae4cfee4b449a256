namespace Immune;

/// <summary>How healthy a fleet has been over a window of time, from the envelopes an <see cref="ImmuneFleetView"/> applied.</summary>
public sealed record ImmuneFleetSummary
{
    /// <summary>Gets the status: <see cref="ImmuneHealthStatus.Critical"/> with any CRITICAL event in the window,
    /// <see cref="ImmuneHealthStatus.Degraded"/> with a WARNING but no CRITICAL one, else <see cref="ImmuneHealthStatus.Healthy"/>.</summary>
    public required ImmuneHealthStatus Status { get; init; }

    /// <summary>Gets the number of counted events recorded in the window, whatever their severity; each event once, however often its envelopes arrived.</summary>
    public required int ActiveIssues { get; init; }

    /// <summary>Gets the number of counted events recorded in the window whose latest severity is CRITICAL.</summary>
    public required int CriticalIssues { get; init; }

    /// <summary>Gets the number of events in the window for each latest severity; every severity is present, zero when none.</summary>
    public required IReadOnlyDictionary<ImmuneSeverity, int> CountsBySeverity { get; init; }

    /// <summary>Gets the number of events in the window for each event type; every type is present, zero when none.</summary>
    public required IReadOnlyDictionary<ImmuneEventType, int> CountsByType { get; init; }

    /// <summary>Gets the window the summary covers, ending at <see cref="GeneratedAt"/>.</summary>
    public required TimeSpan Window { get; init; }

    /// <summary>Gets when the summary was made, from the view's <see cref="TimeProvider"/>.</summary>
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>
    /// Gets the sources: from <see cref="ImmuneFleetView.GetHealthSummary(TimeSpan)"/>, one entry per source with an event
    /// recorded in the window, ordered by source (ordinal); from <see cref="ImmuneFleetView.GetHealthSummary(TimeSpan, int)"/>,
    /// the worst sources only (those with open incidents, most CRITICAL first), whose window may hold no event.
    /// </summary>
    public required IReadOnlyList<ImmuneSourceHealth> Sources { get; init; }

    /// <summary>Gets how many sources have an event recorded in the window, listed in <see cref="Sources"/> or not.</summary>
    public int SourceCount { get; init; }

    /// <summary>Gets how many incidents are open now (events whose current severity is WARNING or CRITICAL), whatever their age.</summary>
    public int OpenIncidents { get; init; }

    /// <summary>Gets how many of the open incidents are CRITICAL.</summary>
    public int OpenCriticalIncidents { get; init; }

    /// <summary>
    /// Gets how many open incidents the view let go to stay within <see cref="ImmuneFleetOptions.IncidentCapacity"/> since
    /// it was made (the oldest WARNING first); a resolution is no eviction.
    /// </summary>
    public long IncidentsEvicted { get; init; }
}
