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
        else
        {
            ShedLocked(_queue.Enqueue(item, out PendingEnvelope shed), shed, ref placed); // the spool gave up: memory only, as without one
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
            ShedLocked(_queue.Enqueue(lead, follower, out PendingEnvelope shed), shed, ref placed);
            return;
        }

        PlaceLocked(leadSpooled, lead, ref placed);
        PlaceLocked(followerSpooled, follower, ref placed);
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
                for (int i = 0; i < envelopes.Count; i++)
                {
                    bool leads = i + 1 < envelopes.Count && EnvelopeKinds.IsPair(envelopes[i], envelopes[i + 1]);
                    EnqueueLocked(PendingEnvelope.Replayed(++_lastSequence, envelopes[i]) with { QueuedAt = queuedAt, Leads = leads }, ref intake);
                }

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
        var pending = new List<EventEnvelope>(1025);
        _spool!.Recover(envelope =>
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
            // Never past the oldest in memory: one the disk refused while it was full waits there, in its place.
            (from, max) = (_onDisk!.From, _onDisk.CountBefore(_queue.OldestSequence ?? long.MaxValue, _options.MaxBatchSize));
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

            if (read && _onDisk.TryTake(out ReadOnlySpan<PendingEnvelope> taken))
            {
                return _batch.Take(taken);
            }

            lostCount = _onDisk.Lose(out lost);
            _settled.DroppedSpoolFull += lostCount;
            CompleteWaitersLocked();
        }

        _reporter.Dropped(lost, lostCount, Reasons.SpoolFull);
        return 0;
    }
}
