using System.Diagnostics;
using Immune.Delivery;
using Immune.Internal;
using Immune.Storage;

namespace Immune.Folding;

/// <summary>
/// Folds identical publishes into the event they repeat, within <see cref="ImmuneOptions.FoldWindow"/>, and publishes
/// one <c>immune.event_repeated</c> report per repeated event when its window closes: when the service's timer calls
/// <see cref="Tick"/>, before the event would leave the store, or at disposal. State only, with no lock and no timer of
/// its own: every member runs under the service's lock, and the service sets its timer to
/// <see cref="TryTakeTimerChange"/>'s due time. Reports are queued into the caller's <see cref="DeliveryIntake"/>, which
/// announces them (the loop woken, the queue metrics and shed logs written) after the lock.
/// </summary>
internal sealed class StormFolder(TimeSpan window, int capacity, EventStore store)
{
    private readonly FoldIndex _index = new(window);
    private readonly EventStore _store = store;
    private readonly int _capacity = capacity;
    private readonly List<long> _reports = [];
    private DateTimeOffset? _armedFor;
    private bool _stopped;

    /// <summary>Gets how many recorded events the index holds: those of the last window, at most the retained ones.</summary>
    internal int IndexedCount => _index.Count;

    /// <summary>
    /// Folds the publish into an identical event of the last window and returns its id; or returns 0, and the caller
    /// records the event as id <see cref="EventStore.LastId"/> + 1 at <paramref name="createdAt"/>, which is indexed
    /// already, and whose addition to the store may evict the oldest: its report, if due, goes out first.
    /// </summary>
    public long FoldOrOpen(NewImmuneEvent newEvent, DateTimeOffset now, DateTimeOffset createdAt, ref DeliveryIntake reports)
    {
        ReportClosed(now, _store.FirstId, ref reports);
        long id = _index.FoldOrOpen(FoldKey.Of(newEvent), now, _store.LastId + 1, createdAt, out bool firstRepeat);
        if (id != 0)
        {
            _store.Repeat(id, now);
        }
        else if (_store.Count == _capacity)
        {
            // Only now is it known that the publish records an event, and so that the oldest leaves the store: it
            // folds no more, and its report, if due, goes out before the new event's envelopes.
            ReportClosed(now, _store.FirstId + 1, ref reports);
        }

        return id;
    }

    /// <summary>A severity change: the event folds no more publishes at its old severity.</summary>
    public void Changed(ImmuneEvent before) => _index.Close(before);

    /// <summary>Publishes every pending report (disposal, before the queue drains); the timer is wanted no more.</summary>
    public void Stop(DateTimeOffset now, ref DeliveryIntake reports)
    {
        _stopped = true;
        _index.TakeAll(_reports);
        Publish(now, ref reports);
    }

    /// <summary>The service's timer fired: reports what came due. Then ask <see cref="TryTakeTimerChange"/> for the next.</summary>
    public void Tick(DateTimeOffset now, ref DeliveryIntake reports)
    {
        if (_stopped)
        {
            return;
        }

        _armedFor = null;
        ReportClosed(now, _store.FirstId, ref reports);
    }

    /// <summary>
    /// Gets when the service's timer must fire next (the earliest pending report; <see cref="Timeout.InfiniteTimeSpan"/>
    /// when none), unless the timer is set for it already; false when nothing is to change.
    /// </summary>
    public bool TryTakeTimerChange(DateTimeOffset now, out TimeSpan due)
    {
        DateTimeOffset? next = _index.NextReportAt;
        if (next == _armedFor || _stopped)
        {
            due = default;
            return false;
        }

        _armedFor = next;
        // A clock stepped back by years puts the report far off: the timer fires at its longest and is set again then.
        due = next is { } at ? (at > now ? Min(at - now, MaxTimerDue) : TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
        return true;
    }

    /// <summary>The longest due time a timer takes (about 49.7 days).</summary>
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void ReportClosed(DateTimeOffset now, long firstRetainedId, ref DeliveryIntake reports)
    {
        _index.TakeClosed(now, firstRetainedId, _reports);
        Publish(now, ref reports);
    }

    private void Publish(DateTimeOffset now, ref DeliveryIntake reports)
    {
        foreach (long eventId in _reports)
        {
            ImmuneEvent repeated = _store.Get(eventId);
            DateTimeOffset at = _store.NextStamp(eventId, now > repeated.LastSeenAt ? now : repeated.LastSeenAt);
            reports.Enqueue(EnvelopeKind.EventRepeated, repeated, at, default, ActivityTraceId.CreateRandom(), critical: false); // a report, not an escalation
        }

        _reports.Clear();
    }
}
