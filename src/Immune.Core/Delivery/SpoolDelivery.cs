using Immune.Internal;
using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The delivery side of the spool: the write turn that writes handed-over envelopes and places them, the replay of what
/// a previous service left, and the backlog read back from disk. It works on the pipeline's <see cref="DeliveryLedger"/>
/// under the ledger's lock, and writes and reads the disk outside it. Lock order: the write turn, then the ledger's
/// lock; the spool's own lock is never taken under the ledger's.
/// </summary>
internal sealed class SpoolDelivery(DeliveryPipeline pipeline, DeliveryLedger ledger, IEnvelopeSpool spool, Gate serviceGate, TimeProvider timeProvider, DeliveryReporter reporter, int maxBatchSize)
{
    /// <summary>
    /// Takes the write turn and writes what waits to be spooled, a turn's worth at a time, until
    /// <paramref name="sequence"/> is written (by this turn or an earlier one), then places each envelope: in memory,
    /// on disk when memory is full or others already wait there (in order), shed when the spool is full for it, in
    /// memory only when the spool gave up. The serialization and the writes run under no lock of the pipeline's.
    /// </summary>
    public void WriteHandedOff(long sequence)
    {
        SpoolHandOff handOff = ledger.HandOff!;
        Invariants.NotHeld(serviceGate, "the service's lock (the write turn waits for the disk)");
        Invariants.NotHeld(ledger.Gate, "the pipeline's lock (the write turn waits for the disk)");
        lock (handOff.Turn)
        {
            while (true)
            {
                int count;
                long settledThrough;
                lock (ledger.Gate)
                {
                    if (ledger.Abandoned || !handOff.TryPeek(out PendingEnvelope head) || head.Sequence > sequence)
                    {
                        return; // written by an earlier turn, or given up by disposal (it stays spooled)
                    }

                    count = handOff.Take();
                    settledThrough = ledger.SettledThrough();
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
        DeliveryIntake placed = new(pipeline);
        try
        {
            lock (ledger.Gate)
            {
                if (ledger.Abandoned)
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

                ledger.CheckBalanced();
                ledger.ReleaseWaiters();
                placed.TakeWakeup(ledger.Wakeup);
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
        Invariants.Held(ledger.Gate, "the pipeline's lock");
        if (spooled == SpoolWrite.Full)
        {
            ledger.Settled.DroppedSpoolFull++;
            placed.Refused(item);
        }
        else if (spooled == SpoolWrite.Written && (ledger.OnDisk!.Count > 0 || ledger.Queue.Count >= ledger.QueueCapacity))
        {
            // On disk, and memory is full (or others already wait on disk, ahead of it): it waits there, in order,
            // and the loop reads it back when it comes to it. Only the spool's capacity sheds.
            ledger.OnDisk.Add(item);
        }
        else
        {
            ledger.Shed(ledger.Queue.Enqueue(item, out PendingEnvelope shed), shed, ref placed); // the spool gave up: memory only, as without one
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
            ledger.Shed(ledger.Queue.Enqueue(lead, follower, out PendingEnvelope shed), shed, ref placed);
            return;
        }

        PlaceLocked(leadSpooled, lead, ref placed);
        PlaceLocked(followerSpooled, follower, ref placed);
    }

    /// <summary>Queues what a previous service left in the spool, before anything new; the envelopes keep their ids.</summary>
    private void Replay(List<EventEnvelope> envelopes)
    {
        DeliveryIntake intake = new(pipeline);
        try
        {
            lock (ledger.Gate)
            {
                long queuedAt = timeProvider.GetTimestamp(); // a replayed envelope's delivery time starts again here
                for (int i = 0; i < envelopes.Count; i++)
                {
                    bool leads = i + 1 < envelopes.Count && EnvelopeKinds.IsPair(envelopes[i], envelopes[i + 1]);
                    ledger.Admit(PendingEnvelope.Replayed(ledger.NextSequence(), envelopes[i]) with { QueuedAt = queuedAt, Leads = leads }, ref intake);
                }

                ledger.Settled.Replayed += envelopes.Count;
                intake.TakeWakeup(ledger.Wakeup);
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
        spool.Recover(envelope =>
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
    public int TakeFromDisk()
    {
        long from;
        int max;
        lock (ledger.Gate)
        {
            // Never past the oldest in memory: one the disk refused while it was full waits there, in its place.
            (from, max) = (ledger.OnDisk!.From, ledger.OnDisk.CountBefore(ledger.Queue.OldestSequence ?? long.MaxValue, maxBatchSize));
        }

        bool read = ledger.OnDisk.Read(from, max);
        PendingEnvelope lost = default;
        long lostCount = 0;
        lock (ledger.Gate)
        {
            if (ledger.Abandoned)
            {
                return -1;
            }

            if (read && ledger.OnDisk.TryTake(out ReadOnlySpan<PendingEnvelope> taken))
            {
                return ledger.Batch.Take(taken);
            }

            lostCount = ledger.OnDisk.Lose(out lost);
            ledger.Settled.DroppedSpoolFull += lostCount;
            ledger.ReleaseWaiters();
        }

        reporter.Dropped(lost, lostCount, Reasons.SpoolFull);
        return 0;
    }
}
