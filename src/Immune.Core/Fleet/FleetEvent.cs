using Immune.Internal;

namespace Immune.Fleet;

/// <summary>An event's fleet identity: the same event in every envelope about it, and no other event.</summary>
internal readonly record struct FleetKey(string Source, string? InstanceId, long EventId);

/// <summary>
/// What a fleet view knows of one event. Every envelope about it is an observation of its severity at a time; the
/// latest wins, and at equal times a severity change outranks a critical event, which outranks a repeat report, which
/// outranks the publication — so
/// the state does not depend on the order envelopes arrive in. Only <c>immune.event_published</c> tells when the
/// event was recorded; until it arrives the event waits, uncounted.
/// </summary>
internal sealed class FleetEvent(FleetKey key, ImmuneEventType type)
{
    public FleetKey Key { get; } = key;

    public ImmuneEventType Type { get; } = type;

    public ImmuneSeverity Severity { get; private set; }

    public long RecordedTicks { get; set; }

    /// <summary>Gets or sets its place among the counted events; null while it waits for its recording time.</summary>
    public TallyTree<FleetEvent>.Node? Counted { get; set; }

    public TallyTree<FleetEvent>.Node? CountedInSource { get; set; }

    public LinkedListNode<FleetEvent>? Waiting { get; set; }

    public Tally Tally => Tally.Of(Severity, Type);

    private long _seenTicks = long.MinValue;
    private ObservationRank _seenRank;
    private ImmuneSeverity _seenPrevious;

    /// <summary>
    /// Takes <paramref name="severity"/> when the observation is later than the latest so far; returns whether the
    /// severity changed. Two severity changes at the same instant (the wire keeps milliseconds) are ordered by their
    /// chain: the one whose <paramref name="previous"/> is the other's severity is later. A change and its undoing
    /// within one millisecond cannot be ordered; the first to arrive stays.
    /// </summary>
    public bool Observe(ImmuneSeverity severity, ImmuneSeverity previous, DateTimeOffset at, ObservationRank rank)
    {
        long ticks = at.UtcTicks;
        bool later = ticks > _seenTicks
            || (ticks == _seenTicks && (rank > _seenRank
                || (rank == ObservationRank.SeverityChanged && _seenRank == rank && previous == Severity && _seenPrevious != severity)));
        if (!later)
        {
            return false;
        }

        _seenTicks = ticks;
        _seenRank = rank;
        _seenPrevious = previous;
        bool changed = Severity != severity;
        Severity = severity;
        return changed;
    }
}

/// <summary>How observations at the same instant rank: the order in which one producer publishes them.</summary>
internal enum ObservationRank
{
    Published = 1,
    Repeated = 2,
    Critical = 3,
    SeverityChanged = 4,
}
