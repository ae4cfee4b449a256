using Immune.Internal;
using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The backlog with a spool. An append hands the envelope over (no I/O under the pipeline's lock); a commit takes the
/// write turn, writes what was handed over to the spool and places each envelope: in memory up to the queue's
/// capacity, on disk beyond it (and every later one while any waits there, to keep order), shed when the spool is full
/// for it, in memory only when the spool gave up. The loop reads what waits on disk back outside the pipeline's lock.
/// It also replays what a previous service left. Lock order: the write turn, then the pipeline's lock; the spool's own
/// lock is never taken under the pipeline's.
/// </summary>
internal sealed class SpoolBacklog : IBacklog
{
    private readonly IIntakeSink _pipeline;
    private readonly DeliveryLedger _ledger;
    private readonly IEnvelopeSpool _spool;
    private readonly Gate _serviceGate;
    private readonly TimeProvider _timeProvider;
    private readonly DeliveryReporter _reporter;
    private readonly int _queueCapacity;
    private readonly int _maxBatchSize;
    private readonly DeliveryQueue _queue;   // written, and waiting in memory
    private readonly SpoolHandOff _handOff;  // appended, waiting to be written and placed
    private readonly DiskBacklog _onDisk;    // written, and waiting on disk only

    public SpoolBacklog(IIntakeSink pipeline, DeliveryLedger ledger, IEnvelopeSpool spool, EnvelopeFactory envelopes, Gate serviceGate, TimeProvider timeProvider, DeliveryReporter reporter, int queueCapacity, int maxBatchSize)
    {
        (_pipeline, _ledger, _spool, _serviceGate, _timeProvider, _reporter) = (pipeline, ledger, spool, serviceGate, timeProvider, reporter);
        (_queueCapacity, _maxBatchSize) = (queueCapacity, maxBatchSize);
        _queue = new DeliveryQueue(queueCapacity);
        _handOff = new SpoolHandOff(spool, envelopes);
        _onDisk = new DiskBacklog(spool);
    }

    /// <summary>Gets the write turn, for tests that stall the disk.</summary>
    public object Turn => _handOff.Turn;

    public long Count => _queue.Count + _onDisk.Count + _handOff.Count;

    public int InMemory => _queue.Count;

    public long OldestSequence => Math.Min(Math.Min(_queue.OldestSequence ?? long.MaxValue, _onDisk.OldestSequence), _handOff.OldestSequence);

    public bool Uncommitted => _handOff.Count > 0;

    public bool TryPeekOldestQueuedAt(out long queuedAt)
    {
        if (!_onDisk.IsNext(_queue) && _queue.TryPeek(out PendingEnvelope oldest))
        {
            queuedAt = oldest.QueuedAt;
            return true;
        }

        if (_onDisk.TryPeekQueuedAt(out queuedAt))
        {
            return true;
        }

        bool handedOff = _handOff.TryPeek(out oldest);
        queuedAt = handedOff ? oldest.QueuedAt : 0;
        return handedOff;
    }

    public void Append(in PendingEnvelope item, ref DeliveryIntake intake)
    {
        intake.Queued(item.Sequence);
        _handOff.Add(item); // written and placed by a write turn, once the caller holds no lock
    }

    public void Append(in PendingEnvelope lead, in PendingEnvelope follower, ref DeliveryIntake intake)
    {
        intake.Queued(lead.Sequence);
        intake.Queued(follower.Sequence);
        _handOff.Add(lead);
        _handOff.Add(follower);
    }

    public void Commit(long sequence) => WriteHandedOff(sequence);

    public int Take(BatchInHand batch) => _onDisk.IsNext(_queue) ? -1 : batch.Take(_queue, _onDisk.OldestSequence); // never past what waits on disk

    public int Read(BatchInHand batch) => TakeFromDisk(batch);

    public long Abandon(out PendingEnvelope first)
    {
        long count = _queue.Clear(out first);
        count += _onDisk.Clear(); // they stay in the spool: the next service on the directory delivers them
        if (_handOff.Clear(out PendingEnvelope handedOff) is int unwritten and > 0)
        {
            first = count == 0 ? handedOff : first;
            count += unwritten; // a write turn under way still spools them: the next service delivers them
        }

        return count;
    }

    /// <summary>
    /// Takes the write turn and writes what waits to be spooled, a turn's worth at a time, until
    /// <paramref name="sequence"/> is written (by this turn or an earlier one), then places each envelope: in memory,
    /// on disk when memory is full or others already wait there (in order), shed when the spool is full for it, in
    /// memory only when the spool gave up. The serialization and the writes run under no lock of the pipeline's.
    /// </summary>
    private void WriteHandedOff(long sequence)
    {
        SpoolHandOff handOff = _handOff;
        Invariants.NotHeld(_serviceGate, "the service's lock (the write turn waits for the disk)");
        Invariants.NotHeld(_ledger.Gate, "the pipeline's lock (the write turn waits for the disk)");
        lock (handOff.Turn)
        {
            while (true)
            {
                int count;
                long settledThrough;
                lock (_ledger.Gate)
                {
                    if (_ledger.Abandoned || !handOff.TryPeek(out PendingEnvelope head) || head.Sequence > sequence)
                    {
                        return; // written by an earlier turn, or given up by disposal (it stays spooled)
                    }

                    count = handOff.Take();
                    settledThrough = _ledger.SettledThrough();
                }

                handOff.Write(count, settledThrough);

                if (!PlaceWritten(handOff, count))
                {
                    return; // disposal counted them as dropped; what was written stays spooled
                }
            }
        }
    }

    /// <summary>Places the envelopes a turn wrote, then announces them; false when disposal gave up on them meanwhile.</summary>
    private bool PlaceWritten(SpoolHandOff handOff, int count)
    {
        DeliveryIntake placed = new(_pipeline);
        try
        {
            lock (_ledger.Gate)
            {
                if (_ledger.Abandoned)
                {
                    return false;
                }

                for (int i = 0; i < count; i++)
                {
                    SpoolWrite spooled = handOff.Place(i, out PendingEnvelope item);
                    if (item.Leads && i + 1 < count)
                    {
                        PlacePairLocked(spooled, item, handOff.Place(++i, out PendingEnvelope follower), follower, ref placed);
                    }
                    else
                    {
                        PlaceLocked(spooled, item, ref placed);
                    }
                }

                _ledger.CheckBalanced();
                _ledger.ReleaseWaiters();
                placed.TakeWakeup(_ledger.Wakeup);
                return true;
            }
        }
        finally
        {
            placed.Dispose(); // wakes the loop and reports what was refused or shed
        }
    }

    private void PlaceLocked(SpoolWrite spooled, in PendingEnvelope item, ref DeliveryIntake placed)
    {
        Invariants.Held(_ledger.Gate, "the pipeline's lock");
        if (spooled == SpoolWrite.Full)
        {
            _ledger.Settled.DroppedSpoolFull++;
            placed.Refused(item);
        }
        else if (spooled == SpoolWrite.Written && (_onDisk.Count > 0 || _queue.Count >= _queueCapacity))
        {
            // On disk, and memory is full (or others already wait on disk, ahead of it): it waits there, in order,
            // and the loop reads it back when it comes to it. Only the spool's capacity sheds.
            _onDisk.Add(item);
        }
        else
        {
            _ledger.Shed(_queue.Enqueue(item, out PendingEnvelope shed), shed, ref placed); // the spool gave up: memory only, as without one
        }
    }

    /// <summary>
    /// Places a CRITICAL publish's two envelopes as the spool took them: refused together (the spool admits a pair
    /// whole), and held in memory only together when the spool gave up on both, so the queue admits or sheds them whole.
    /// </summary>
    private void PlacePairLocked(SpoolWrite leadSpooled, in PendingEnvelope lead, SpoolWrite followerSpooled, in PendingEnvelope follower, ref DeliveryIntake placed)
    {
        if (leadSpooled == SpoolWrite.Unavailable && followerSpooled == SpoolWrite.Unavailable)
        {
            _ledger.Shed(_queue.Enqueue(lead, follower, out PendingEnvelope shed), shed, ref placed);
            return;
        }

        PlaceLocked(leadSpooled, lead, ref placed);
        PlaceLocked(followerSpooled, follower, ref placed);
    }

    /// <summary>Queues what a previous service left in the spool, before anything new; the envelopes keep their ids.</summary>
    private void Replay(List<EventEnvelope> envelopes)
    {
        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_ledger.Gate)
            {
                long queuedAt = _timeProvider.GetTimestamp(); // a replayed envelope's delivery time starts again here
                for (int i = 0; i < envelopes.Count; i++)
                {
                    bool leads = i + 1 < envelopes.Count && EnvelopeKinds.IsPair(envelopes[i], envelopes[i + 1]);
                    _ledger.Admit(PendingEnvelope.Replayed(_ledger.NextSequence(), envelopes[i]) with { QueuedAt = queuedAt, Leads = leads }, ref intake);
                }

                _ledger.Settled.Replayed += envelopes.Count;
                intake.TakeWakeup(_ledger.Wakeup);
            }
        }
        finally
        {
            intake.Dispose();
        }
    }

    /// <summary>
    /// Replays what a previous service left in the spool, before anything new, a thousand envelopes at a
    /// time: the spool streams them from its files, and beyond <see cref="ImmuneOptions.QueueCapacity"/> they wait on
    /// disk again, so a backlog of any size replays in bounded memory.
    /// </summary>
    public void ReplayFromSpool()
    {
        var pending = new List<EventEnvelope>(1025);
        _spool.Recover(envelope =>
        {
            // A block ends between publishes, never inside a CRITICAL one: its two envelopes are placed together.
            if (pending.Count >= 1024 && !EnvelopeKinds.IsPair(pending[^1], envelope))
            {
                Replay(pending);
                pending.Clear();
            }

            pending.Add(envelope);
        });
        Replay(pending);
    }

    /// <summary>
    /// Reads the oldest envelopes waiting on disk back into the batch in hand (the disk read runs outside the lock);
    /// returns how many were taken, or -1 when disposal gave up meanwhile. A spool that no longer reads back sheds
    /// what waited on it, counted as <c>spool_full</c>.
    /// </summary>
    private int TakeFromDisk(BatchInHand batch)
    {
        long from;
        int max;
        lock (_ledger.Gate)
        {
            // Never past the oldest in memory: one the disk refused while it was full waits there, in its place.
            (from, max) = (_onDisk.From, _onDisk.CountBefore(_queue.OldestSequence ?? long.MaxValue, _maxBatchSize));
        }

        bool read = _onDisk.Read(from, max);
        PendingEnvelope lost = default;
        long lostCount = 0;
        lock (_ledger.Gate)
        {
            if (_ledger.Abandoned)
            {
                return -1;
            }

            if (read && _onDisk.TryTake(out ReadOnlySpan<PendingEnvelope> taken))
            {
                return batch.Take(taken);
            }

            lostCount = _onDisk.Lose(out lost);
            _ledger.Settled.DroppedSpoolFull += lostCount;
            _ledger.ReleaseWaiters();
        }

        _reporter.Dropped(lost, lostCount, Reasons.SpoolFull);
        return 0;
    }
}
