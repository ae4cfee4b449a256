namespace Immune;

/// <summary>How healthy a service has been over a window of time: counts, status and the newest events.</summary>
public sealed record ImmuneHealthSummary
{
    /// <summary>Gets the number of retained events in the window, whatever their severity.</summary>
    public required int ActiveIssues { get; init; }

    /// <summary>Gets how many times the events in the window happened: <see cref="ActiveIssues"/> plus the publishes folded
    /// into them (<see cref="ImmuneEvent.Occurrences"/>). A folded event counts once everywhere else.</summary>
    public required long Occurrences { get; init; }

    /// <summary>Gets the number of retained events in the window whose current severity is CRITICAL.</summary>
    public required int CriticalIssues { get; init; }

    /// <summary>Gets the newest (at most 10) events in the window, oldest first.</summary>
    public required IReadOnlyList<ImmuneEvent> LastEvents { get; init; }

    /// <summary>Gets the status: <see cref="ImmuneHealthStatus.Critical"/> with any CRITICAL event in the window,
    /// <see cref="ImmuneHealthStatus.Degraded"/> with a WARNING but no CRITICAL one, else <see cref="ImmuneHealthStatus.Healthy"/>.</summary>
    public required ImmuneHealthStatus Status { get; init; }

    /// <summary>Gets the window the summary covers, ending at <see cref="GeneratedAt"/>.</summary>
    public required TimeSpan Window { get; init; }

    /// <summary>Gets when the summary was made, from the service's <see cref="TimeProvider"/>.</summary>
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>Gets the number of events in the window for each severity; every severity is present, zero when none.</summary>
    public required IReadOnlyDictionary<ImmuneSeverity, int> CountsBySeverity { get; init; }

    /// <summary>Gets the number of events in the window for each event type; every type is present, zero when none.</summary>
    public required IReadOnlyDictionary<ImmuneEventType, int> CountsByType { get; init; }
}
