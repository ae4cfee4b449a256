using Immune.Internal;
using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The pipeline's state under its lock: the sequences given, where each pending envelope waits (the batch in hand, the
/// memory queue, the spool's hand-off, the disk), what is settled, and who waits for it. Every envelope gets the next
/// sequence when queued and is settled exactly once, so <c>Queued == Delivered + Failed + Dropped + Pending</c> holds
/// at every release of the lock. Every member but <see cref="Gate"/> is read and written under <see cref="Gate"/>.
/// </summary>
internal sealed class DeliveryLedger(int queueCapacity, int maxBatchSize, SpoolHandOff? handOff, DiskBacklog? onDisk)
{
    private readonly SettlementWaiters _waiters = new();

    /// <summary>The what-is-settled counts; a field, so that the batch settles into it in place.</summary>
    public DeliveryTally Settled;

    /// <summary>Gets the pipeline's lock.</summary>
    public Gate Gate { get; } = new();

    /// <summary>Gets the envelopes waiting in memory.</summary>
    public DeliveryQueue Queue { get; } = new(queueCapacity);

    /// <summary>Gets how many envelopes memory holds before, with a spool, they wait on disk.</summary>
    public int QueueCapacity => queueCapacity;

    /// <summary>Gets, with a spool, the envelopes queued and waiting to be written to it and placed.</summary>
    public SpoolHandOff? HandOff => handOff;

    /// <summary>Gets, with a spool, the envelopes waiting there only, beyond <see cref="QueueCapacity"/>.</summary>
    public DiskBacklog? OnDisk => onDisk;

    /// <summary>Gets the batch the loop has in hand.</summary>
    public BatchInHand Batch { get; } = new(maxBatchSize);

    /// <summary>Gets the loop's wake-up.</summary>
    public LoopWakeup Wakeup { get; } = new();

    /// <summary>Gets the last sequence given.</summary>
    public long LastSequence { get; private set; }

    /// <summary>Gets whether disposal gave up on everything pending (nothing is settled after it).</summary>
    public bool Abandoned { get; private set; }

    /// <summary>Gets or sets whether intake stopped: the loop ends once it finds nothing more.</summary>
    public bool Stopping { get; set; }

    /// <summary>Gives the next sequence.</summary>
    public long NextSequence() => ++LastSequence;

    /// <summary>Gets how many envelopes are pending: in hand and unclaimed, queued, on disk, or handed to the spool.</summary>
    public ImmuneDeliveryStats Stats(DateTimeOffset? failingSince)
    {
        DeliveryTally tally = Settled;
        int claimed = Batch.CountClaimed(ref tally);
        return tally.ToStats(LastSequence, Queue.Count + (Batch.Count - claimed) + (onDisk?.Count ?? 0) + (handOff?.Count ?? 0), failingSince);
    }

    /// <summary>Checks the accounting identity (when invariants are checked).</summary>
    public void CheckBalanced()
    {
        if (Invariants.Checked)
        {
            Invariants.Balanced(Stats(null));
        }
    }

    /// <summary>
    /// The highest sequence up to which every envelope is settled. The loop takes envelopes in sequence order, a batch
    /// at a time, so everything before its batch (or before the oldest waiting) is settled or was shed.
    /// </summary>
    public long SettledThrough()
    {
        Invariants.Held(Gate, "the pipeline's lock");
        return Batch.Count > 0 ? Batch[0].Sequence - 1
            : OldestWaiting() is long oldest && oldest != long.MaxValue ? oldest - 1
            : LastSequence;
    }

    /// <summary>The oldest sequence waiting outside the batch in hand; <see cref="long.MaxValue"/> when none.</summary>
    private long OldestWaiting() => Math.Min(Math.Min(Queue.OldestSequence ?? long.MaxValue, onDisk?.OldestSequence ?? long.MaxValue), handOff?.OldestSequence ?? long.MaxValue);

    /// <summary>Gets when the oldest pending envelope (in hand or waiting) was queued, as a timestamp.</summary>
    public bool TryPeekOldestQueuedAt(out long queuedAt)
    {
        if (Batch.TryPeekUnclaimed(out PendingEnvelope oldest) || (!NextIsOnDisk() && Queue.TryPeek(out oldest)))
        {
            queuedAt = oldest.QueuedAt;
            return true;
        }

        if (onDisk is not null && onDisk.TryPeekQueuedAt(out queuedAt))
        {
            return true;
        }

        bool handedOff = handOff is not null && handOff.TryPeek(out oldest);
        queuedAt = handedOff ? oldest.QueuedAt : 0;
        return handedOff;
    }

    /// <summary>Whether the next envelope in order waits on disk.</summary>
    public bool NextIsOnDisk() => onDisk is not null && onDisk.IsNext(Queue);

    /// <summary>A task that completes once every envelope through <paramref name="sequence"/> is settled.</summary>
    public Task WaitForSettled(long sequence) => _waiters.WaitFor(sequence, SettledThrough());

    /// <summary>Releases the waiters whose envelopes are all settled now.</summary>
    public void ReleaseWaiters() => _waiters.Release(SettledThrough());

    /// <summary>Admits one envelope: handed to the spool when there is one, else queued in memory (which may shed).</summary>
    public void Admit(in PendingEnvelope item, ref DeliveryIntake intake)
    {
        Invariants.Held(Gate, "the pipeline's lock");
        intake.Queued(item.Sequence);
        if (handOff is not null)
        {
            handOff.Add(item); // written and placed by a write turn, once the caller holds no lock
        }
        else
        {
            Shed(Queue.Enqueue(item, out PendingEnvelope shed), shed, ref intake);
        }
    }

    /// <summary>Admits a CRITICAL publish's two envelopes, together (or sheds them together).</summary>
    public void Admit(in PendingEnvelope lead, in PendingEnvelope follower, ref DeliveryIntake intake)
    {
        Invariants.Held(Gate, "the pipeline's lock");
        intake.Queued(lead.Sequence);
        intake.Queued(follower.Sequence);
        if (handOff is not null)
        {
            handOff.Add(lead);
            handOff.Add(follower);
        }
        else
        {
            Shed(Queue.Enqueue(lead, follower, out PendingEnvelope shed), shed, ref intake);
        }
    }

    /// <summary>Counts what the memory queue shed to admit a publish (<c>queue_full</c>).</summary>
    public void Shed(int count, in PendingEnvelope first, ref DeliveryIntake intake)
    {
        if (count > 0)
        {
            Settled.DroppedQueueFull += count;
            intake.Shed(first, count);
            ReleaseWaiters();
        }
    }

    /// <summary>
    /// Gives up on everything pending: results the loop claimed count as they are, the rest of its batch and everything
    /// waiting count as dropped (<c>shutdown</c>). Returns how many, and the first of them; zero when given up already.
    /// </summary>
    public long Abandon(out PendingEnvelope first)
    {
        first = default;
        if (Abandoned)
        {
            return 0;
        }

        long count = Batch.Abandon(ref Settled, out first);
        while (Queue.TryDequeue(out PendingEnvelope item))
        {
            first = count == 0 ? item : first;
            count++;
        }

        count += onDisk?.Clear() ?? 0; // they stay in the spool: the next service on the directory delivers them
        if (handOff?.Clear(out PendingEnvelope handedOff) is int unwritten and > 0)
        {
            first = count == 0 ? handedOff : first;
            count += unwritten; // a write turn under way still spools them: the next service delivers them
        }

        Settled.DroppedShutdown += count;
        Abandoned = true;
        ReleaseWaiters();
        return count;
    }
}
