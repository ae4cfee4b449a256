using Immune.Internal;

namespace Immune;

/// <summary>Options of <see cref="ImmuneFleetView"/>. Validated when the view is constructed; the view keeps a copy.</summary>
public sealed class ImmuneFleetOptions
{
    private const int MaxCapacity = 10_000_000;

    /// <summary>
    /// Gets or sets how many events the view counts; when full, the one recorded earliest leaves first (equal recording
    /// times by fleet identity: source, instance id, event id, ordinally), and an event that would be the first to leave
    /// is not counted. So the same envelopes keep the same events in whatever order they arrive. As many again may wait for their
    /// <c>immune.event_published</c> (the oldest leaves first), and the ids of the last four times this many envelopes
    /// are remembered to answer <see cref="ImmuneFleetView.Apply"/>. From 1 to 10,000,000.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    public int RetentionCapacity { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how many open incidents (events whose current severity is WARNING or CRITICAL) the view keeps,
    /// whatever their age and apart from <see cref="RetentionCapacity"/>; past it the oldest WARNING goes first (oldest by
    /// recording time, equal times by fleet identity), a CRITICAL only when no WARNING is left, each counted in
    /// <see cref="ImmuneFleetSummary.IncidentsEvicted"/>. From 1 to 10,000,000.
    /// </summary>
    /// <value>The default value is 100,000.</value>
    public int IncidentCapacity { get; set; } = 100_000;

    internal ImmuneFleetOptions Clone() => (ImmuneFleetOptions)MemberwiseClone();

    /// <summary>Throws one <see cref="ArgumentException"/> whose message names every invalid option.</summary>
    internal void Validate()
    {
        var problems = new OptionsProblems(nameof(ImmuneFleetOptions));
        problems.Range(nameof(RetentionCapacity), RetentionCapacity, 1, MaxCapacity);
        problems.Range(nameof(IncidentCapacity), IncidentCapacity, 1, MaxCapacity);
        problems.ThrowIfAny();
    }
}
