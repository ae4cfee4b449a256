namespace Immune;

/// <summary>
/// The events a fleet recorded in one clock minute, by their severity when they were published (a CRITICAL resolved
/// since still counts as CRITICAL here): one bar of the fleet's rate, as <see cref="ImmuneFleetView.GetRecordedPerMinute"/> gives it.
/// </summary>
public sealed record ImmuneFleetMinute
{
    /// <summary>Gets the minute's start, in UTC.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Gets how many INFO events were recorded in the minute.</summary>
    public required int Info { get; init; }

    /// <summary>Gets how many WARNING events were recorded in the minute.</summary>
    public required int Warning { get; init; }

    /// <summary>Gets how many CRITICAL events were recorded in the minute.</summary>
    public required int Critical { get; init; }
}
