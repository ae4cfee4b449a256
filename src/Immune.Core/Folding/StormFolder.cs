using System.Collections.Concurrent;
using System.Diagnostics;
using Immune.Delivery;
using Immune.Internal;
using Immune.Storage;

namespace Immune.Folding;

/// <summary>
/// Folds identical publishes into the event they repeat, within <see cref="ImmuneOptions.FoldWindow"/>, and publishes
/// one <c>immune.event_repeated</c> report per repeated event when its window closes: on a timer of the service's
/// <see cref="TimeProvider"/>, before the event would leave the store, or at disposal. Every member but the timer's
/// callback and <see cref="Announce"/> runs under the service's lock; the callback takes it. Reports are queued under
/// the lock and announced (the loop woken, the queue metrics and shed logs written) by <see cref="Announce"/> after it.
/// </summary>
internal sealed class StormFolder
{
    private readonly FoldIndex _index;
    private readonly Gate _gate;
    private readonly EventStore _store;
    private readonly int _capacity;
    private readonly DeliveryPipeline? _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _timer;
    private readonly List<long> _reports = [];
    private readonly ConcurrentQueue<Enqueued> _unannounced = new();
    private DateTimeOffset? _armedFor;
    private bool _stopped;

    public StormFolder(TimeSpan window, int capacity, Gate gate, EventStore store, DeliveryPipeline? pipeline, TimeProvider timeProvider)
    {
        _index = new FoldIndex(window);
        _capacity = capacity;
        _gate = gate;
        _store = store;
        _pipeline = pipeline;
        _timeProvider = timeProvider;

        // The timer's callbacks must not run in the ExecutionContext of whoever built the service.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = timeProvider.CreateTimer(static state => ((StormFolder)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets how many recorded events the index holds: those of the last window, at most the retained ones.</summary>
    internal int IndexedCount => _index.Count;

    /// <summary>
    /// Folds the publish into an identical event of the last window and returns its id; or returns 0, and the caller
    /// records the event as id <see cref="EventStore.LastId"/> + 1 at <paramref name="createdAt"/>, which is indexed
    /// already, and whose addition to the store may evict the oldest: its report, if due, goes out first.
    /// </summary>
    public long FoldOrOpen(NewImmuneEvent newEvent, DateTimeOffset now, DateTimeOffset createdAt)
    {
        ReportClosed(now, _store.FirstId);
        long id = _index.FoldOrOpen(FoldKey.Of(newEvent), now, _store.LastId + 1, createdAt, out bool firstRepeat);
        if (id != 0)
        {
            _store.Repeat(id, now);
            if (firstRepeat)
            {
                Arm(now);
            }
        }
        else if (_store.Count == _capacity)
        {
            // Only now is it known that the publish records an event, and so that the oldest leaves the store: it
            // folds no more, and its report, if due, goes out before the new event's envelopes.
            ReportClosed(now, _store.FirstId + 1);
        }

        return id;
    }

    /// <summary>A severity change: the event folds no more publishes at its old severity.</summary>
    public void Changed(ImmuneEvent before) => _index.Close(before);

    /// <summary>Publishes every pending report and stops the timer (disposal, before the queue drains).</summary>
    public void Stop(DateTimeOffset now)
    {
        _stopped = true;
        _timer.Dispose();
        _index.TakeAll(_reports);
        Publish(now);
    }

    /// <summary>Announces the reports queued so far; called without the service's lock held.</summary>
    public void Announce()
    {
        while (_unannounced.TryDequeue(out Enqueued enqueued))
        {
            _pipeline!.Announce(enqueued);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            try
            {
                DateTimeOffset now = _timeProvider.GetUtcNow();
                _armedFor = null;
                ReportClosed(now, _store.FirstId);
                Arm(now);
            }
            catch (Exception)
            {
                // Nothing here is expected to throw (the pipeline guards its own reporting); a timer callback that
                // threw would end the process, so a failure only loses this tick: the next publish reports what is due.
            }
        }

        Announce();
    }

    private void ReportClosed(DateTimeOffset now, long firstRetainedId)
    {
        _index.TakeClosed(now, firstRetainedId, _reports);
        Publish(now);
    }

    private void Publish(DateTimeOffset now)
    {
        foreach (long eventId in _reports)
        {
            if (_pipeline is not null)
            {
                ImmuneEvent repeated = _store.Get(eventId);
                DateTimeOffset at = _store.NextStamp(eventId, now > repeated.LastSeenAt ? now : repeated.LastSeenAt);
                _unannounced.Enqueue(_pipeline.Enqueue(EnvelopeKind.EventRepeated, repeated, at, default, ActivityTraceId.CreateRandom(), critical: false)); // a report, not an escalation
            }
        }

        _reports.Clear();
    }

    /// <summary>Sets the timer for the earliest pending report, unless it is set for it already.</summary>
    private void Arm(DateTimeOffset now)
    {
        DateTimeOffset? next = _index.NextReportAt;
        if (next == _armedFor || _stopped)
        {
            return;
        }

        _armedFor = next;
        TimeSpan due = next is { } at ? (at > now ? at - now : TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }
}
