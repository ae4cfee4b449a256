using Immune.Internal;

namespace Immune.Fleet;

/// <summary>
/// What a fleet view knows of one event. Every envelope about it is an observation of its severity at a time; the
/// latest wins, and at equal times a severity change outranks a critical event, which outranks a repeat report, which
/// outranks the publication — so
/// the state does not depend on the order envelopes arrive in. Only <c>immune.event_published</c> tells when the
/// event was recorded; until it arrives the event waits, uncounted.
/// </summary>
internal sealed class FleetEvent(FleetKey key, ImmuneEventType type)
{
    /// <summary>Orders events by their fleet identity: the tie order of equal times everywhere in the view.</summary>
    public static readonly IComparer<FleetEvent> ByKey = Comparer<FleetEvent>.Create(static (x, y) => FleetKey.Compare(x.Key, y.Key));

    /// <summary>Orders events by their latest observation, equal times by fleet identity: which waiting event leaves first.</summary>
    public static readonly IComparer<FleetEvent> ByLatestObservation = Comparer<FleetEvent>.Create(static (x, y) =>
    {
        int c = x.ChangedAt.UtcTicks.CompareTo(y.ChangedAt.UtcTicks);
        return c != 0 ? c : FleetKey.Compare(x.Key, y.Key);
    });

    public FleetKey Key { get; } = key;

    public ImmuneEventType Type { get; } = type;

    public ImmuneSeverity Severity { get; private set; }

    public long RecordedTicks { get; set; }

    /// <summary>Gets or sets its place among the counted events; null while it waits for its recording time.</summary>
    public TallyTree<FleetEvent>.Node? Counted { get; set; }

    public TallyTree<FleetEvent>.Node? CountedInSource { get; set; }

    /// <summary>Gets or sets whether it waits for its publication (uncounted), among the view's waiting events.</summary>
    public bool Waiting { get; set; }

    /// <summary>Gets or sets whether it is among the open incidents (which it may outlive its counting for).</summary>
    public bool Open { get; set; }

    public Tally Tally => Tally.Of(Severity, Type);

    /// <summary>Gets the event's message, agent and module, from the first envelope about it (texts cut to <see cref="ImmuneFleetView.MaxIncidentTextLength"/>).</summary>
    public string Message { get; private set; } = string.Empty;

    public string? AgentId { get; private set; }

    public string? Module { get; private set; }

    /// <summary>Gets the latest time any envelope about it carried, whether or not it won.</summary>
    public DateTimeOffset ChangedAt { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>Gets the highest occurrence count a repeat report carried; 1 without any.</summary>
    public long Occurrences { get; private set; } = 1;

    private bool _described;

    /// <summary>Notes what every envelope about the event tells, whatever its order: its texts, its time, its occurrences.</summary>
    public void Note(ImmunePayload payload, DateTimeOffset at)
    {
        if (!_described)
        {
            (Message, AgentId, Module, _described) = (Cut(payload.Message) ?? string.Empty, Cut(payload.AgentId), Cut(payload.Module), true);
        }

        if (at > ChangedAt)
        {
            ChangedAt = at;
        }

        if (payload is ImmuneEventRepeatedPayload repeated && repeated.Occurrences > Occurrences)
        {
            Occurrences = repeated.Occurrences;
        }
    }

    public ImmuneFleetIncident ToIncident(DateTimeOffset lastSeenAt) => new()
    {
        Source = Key.Source,
        InstanceId = Key.InstanceId,
        EventId = Key.EventId,
        Severity = Severity,
        Type = Type,
        Message = Message,
        AgentId = AgentId,
        Module = Module,
        RecordedAt = new DateTimeOffset(RecordedTicks, TimeSpan.Zero),
        ChangedAt = ChangedAt.ToUniversalTime(),
        Occurrences = Occurrences,
        LastSeenAt = lastSeenAt,
    };

    /// <summary>Keeps memory bounded whatever a producer sends: at most the view's text length, never half a surrogate pair.</summary>
    private static string? Cut(string? text)
    {
        const int max = ImmuneFleetView.MaxIncidentTextLength;
        if (text is null || text.Length <= max)
        {
            return text;
        }

        return text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)];
    }

    private long _seenTicks = long.MinValue;
    private ObservationRank _seenRank;
    private ImmuneSeverity _seenPrevious;

    /// <summary>Gets what the view must remember of a recorded event it lets go of, to take it up again as it was.</summary>
    public Memory Remember() => new(RecordedTicks, Severity, _seenTicks, _seenRank, _seenPrevious, ChangedAt, Occurrences);

    /// <summary>Takes up a recorded event the view had let go of, as it was then.</summary>
    public void Recall(in Memory memory)
    {
        (RecordedTicks, Severity, _seenTicks, _seenRank, _seenPrevious) = (memory.RecordedTicks, memory.Severity, memory.SeenTicks, memory.SeenRank, memory.SeenPrevious);
        (ChangedAt, Occurrences) = (memory.ChangedAt, memory.Occurrences);
    }

    /// <summary>The observed state of a recorded event: its recording time, severity and latest observation.</summary>
    internal readonly record struct Memory(long RecordedTicks, ImmuneSeverity Severity, long SeenTicks, ObservationRank SeenRank, ImmuneSeverity SeenPrevious, DateTimeOffset ChangedAt, long Occurrences);

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
