using System.Runtime.InteropServices;

namespace Immune.Folding;

/// <summary>
/// The events recorded in the last fold window, by identity, and the repeated ones whose reports are due when their
/// window closes. Events are recorded in time order, so windows close in id order: a queue in id order expires them,
/// and a heap keyed by id orders the pending reports. Everything is kept in value types, so indexing an event that
/// never repeats allocates nothing that outlives the call. Holds only events still retained (the service reports a
/// fold before its event leaves the store). Not thread-safe: the service guards it with its lock.
/// </summary>
internal sealed class FoldIndex(TimeSpan window)
{
    private readonly Dictionary<FoldKey, Open> _open = new(FoldKey.Comparer);
    private readonly Queue<(FoldKey Key, long EventId, long ClosesAt)> _recorded = new();
    private readonly PriorityQueue<(long EventId, long ClosesAt), long> _due = new();

    public int Count => _recorded.Count;

    /// <summary>Gets when the earliest pending report is due; null when none is.</summary>
    public DateTimeOffset? NextReportAt => _due.TryPeek(out var due, out _) ? new DateTimeOffset(due.ClosesAt, TimeSpan.Zero) : null;

    /// <summary>
    /// Folds a publish made at <paramref name="now"/> into an identical event whose window is still open and returns its
    /// id; else indexes <paramref name="nextId"/>, the event the caller records next (at <paramref name="createdAt"/>),
    /// and returns 0. One hash lookup either way.
    /// </summary>
    public long FoldOrOpen(in FoldKey key, DateTimeOffset now, long nextId, DateTimeOffset createdAt, out bool firstRepeat)
    {
        firstRepeat = false;
        ref Open open = ref CollectionsMarshal.GetValueRefOrAddDefault(_open, key, out bool exists);
        if (exists && now.UtcTicks < open.ClosesAt)
        {
            if (!open.Reported)
            {
                open.Reported = firstRepeat = true;
                _due.Enqueue((open.EventId, open.ClosesAt), open.EventId);
            }

            return open.EventId;
        }

        long closesAt = createdAt.UtcTicks > DateTimeOffset.MaxValue.UtcTicks - window.Ticks ? DateTimeOffset.MaxValue.UtcTicks : (createdAt + window).UtcTicks; // a clock at the end of time: it never closes but by disposal or eviction
        open = new Open { EventId = nextId, ClosesAt = closesAt };
        _recorded.Enqueue((key, nextId, closesAt));
        return 0;
    }

    /// <summary>Stops folding into an event whose severity changed: later publishes at the old severity are new events.</summary>
    public void Close(ImmuneEvent before)
    {
        FoldKey key = FoldKey.Of(before);
        if (_open.TryGetValue(key, out Open open) && open.EventId == before.Id)
        {
            _open.Remove(key);
        }
    }

    /// <summary>
    /// Forgets the events whose window closed by <paramref name="now"/> or that leave the store (ids below
    /// <paramref name="firstRetainedId"/>), and adds the ids of the reports due for either reason, oldest first.
    /// </summary>
    public void TakeClosed(DateTimeOffset now, long firstRetainedId, List<long> reports)
    {
        long ticks = now.UtcTicks;
        while (_due.TryPeek(out var due, out _) && (due.ClosesAt <= ticks || due.EventId < firstRetainedId))
        {
            _due.Dequeue();
            reports.Add(due.EventId);
        }

        while (_recorded.TryPeek(out var recorded) && (recorded.ClosesAt <= ticks || recorded.EventId < firstRetainedId))
        {
            _recorded.Dequeue();
            if (_open.Remove(recorded.Key, out Open open) && open.EventId != recorded.EventId)
            {
                _open.Add(recorded.Key, open); // a later event took the key: keep it
            }
        }
    }

    /// <summary>Takes every pending report, oldest first, and forgets everything (disposal).</summary>
    public void TakeAll(List<long> reports) => TakeClosed(DateTimeOffset.MaxValue, long.MaxValue, reports);

    private struct Open
    {
        public long EventId;
        public long ClosesAt;  // UTC ticks
        public bool Reported;  // in the heap of due reports
    }
}
