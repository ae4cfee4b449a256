using Immune.Internal;
using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The delivery pipeline's side of the spool: the write turn that writes handed-over envelopes and places them, the
/// replay of what a previous service left, and the backlog read back from disk. Lock order: the write turn, then the
/// pipeline's lock; the spool's own lock is never taken under the pipeline's.
/// </summary>
internal sealed partial class DeliveryPipeline
{
    /// <summary>
    /// Takes the write turn and writes what waits to be spooled, a turn's worth at a time, until
    /// <paramref name="sequence"/> is written (by this turn or an earlier one), then places each envelope: in memory,
    /// on disk when memory is full or others already wait there (in order), shed when the spool is full for it, in
    /// memory only when the spool gave up. The serialization and the writes run under no lock of the pipeline's.
    /// </summary>
    private void WriteHandedOff(long sequence)
    {
        SpoolHandOff handOff = _handOff!;
        Invariants.NotHeld(_serviceGate, "the service's lock (the write turn waits for the disk)");
        Invariants.NotHeld(_gate, "the pipeline's lock (the write turn waits for the disk)");
        lock (handOff.Turn)
        {
            while (true)
            {
                int count;
                long settledThrough;
                lock (_gate)
                {
                    if (_abandoned || !handOff.TryPeek(out PendingEnvelope head) || head.Sequence > sequence)
                    {
                        return; // written by an earlier turn, or given up by disposal (it stays spooled)
                    }

                    count = handOff.Take();
                    settledThrough = SettledThroughLocked();
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
        DeliveryIntake placed = new(this);
        try
        {
            lock (_gate)
            {
                if (_abandoned)
                {
                    return false;
                }

                for (int i = 0; i < count; i++)
                {
                    PlaceLocked(handOff.Place(i, out PendingEnvelope item), item, ref placed);
                }

                if (Invariants.Checked)
                {
                    Invariants.Balanced(StatsLocked());
                }

                CompleteWaitersLocked();
                placed.TakeWakeup(_wakeup);
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
        Invariants.Held(_gate, "the pipeline's lock");
        if (spooled == SpoolWrite.Full)
        {
            _settled.DroppedSpoolFull++;
            placed.Refused(item);
        }
        else if (spooled == SpoolWrite.Written && (_onDisk!.Count > 0 || _queue.Count >= _options.QueueCapacity))
        {
            // On disk, and memory is full (or others already wait on disk, ahead of it): it waits there, in order,
            // and the loop reads it back when it comes to it. Only the spool's capacity sheds.
            _onDisk.Add(item);
        }
        else if (_queue.Enqueue(item, out PendingEnvelope shed))
        {
            _settled.DroppedQueueFull++; // the spool gave up: memory only, as without one
            placed.Shed(shed);
        }
    }

    /// <summary>Queues what a previous service left in the spool, before anything new; the envelopes keep their ids.</summary>
    private void Replay(List<EventEnvelope> envelopes)
    {
        DeliveryIntake intake = new(this);
        try
        {
            lock (_gate)
            {
                long queuedAt = _timeProvider.GetTimestamp(); // a replayed envelope's delivery time starts again here
                foreach (EventEnvelope envelope in envelopes) EnqueueLocked(PendingEnvelope.Replayed(++_lastSequence, envelope) with { QueuedAt = queuedAt }, ref intake);
                _settled.Replayed += envelopes.Count;
                intake.TakeWakeup(_wakeup);
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
        var pending = new List<EventEnvelope>(1024);
        _spool!.Recover(envelope =>
        {
            pending.Add(envelope);
            if (pending.Count == pending.Capacity)
            {
                Replay(pending);
                pending.Clear();
            }
        });
        Replay(pending);
    }

    private bool NextIsOnDiskLocked() => _onDisk is not null && _onDisk.IsNext(_queue);

    /// <summary>
    /// Reads the oldest envelopes waiting on disk back into the batch in hand (the disk read runs outside the lock);
    /// returns how many were taken, or -1 when disposal gave up meanwhile. A spool that no longer reads back sheds
    /// what waited on it, counted as <c>spool_full</c>.
    /// </summary>
    private int TakeFromDisk()
    {
        long from;
        int max;
        lock (_gate)
        {
            (from, max) = (_onDisk!.From, (int)Math.Min(_options.MaxBatchSize, _onDisk.Count));
        }

        bool read = _onDisk.Read(from, max);
        PendingEnvelope lost = default;
        long lostCount = 0;
        lock (_gate)
        {
            if (_abandoned)
            {
                return -1;
            }

            if (read)
            {
                return _batch.Take(_onDisk.Take());
            }

            lostCount = _onDisk.Lose(out lost);
            _settled.DroppedSpoolFull += lostCount;
            CompleteWaitersLocked();
        }

        _reporter.Dropped(lost, lostCount, Reasons.SpoolFull);
        return 0;
    }
}
