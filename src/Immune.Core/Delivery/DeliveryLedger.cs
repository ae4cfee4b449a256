using Immune.Internal;

namespace Immune.Delivery;

/// <summary>
/// The pipeline's state under its lock: the sequences given, where each pending envelope waits (the batch in hand, or
/// the <see cref="IBacklog"/>), what is settled, and who waits for it. Every envelope gets the next
/// sequence when queued and is settled exactly once, so <c>Queued == Delivered + Failed + Dropped + Pending</c> holds
/// at every release of the lock. Every member but <see cref="Gate"/> is read and written under <see cref="Gate"/>.
/// </summary>
internal sealed class DeliveryLedger
{
    private readonly SettlementWaiters _waiters = new();

    /// <summary>Creates a ledger whose backlog <paramref name="backlog"/> makes (it counts what the backlog sheds here).</summary>
    public DeliveryLedger(int maxBatchSize, Func<DeliveryLedger, IBacklog> backlog)
    {
        Batch = new BatchInHand(maxBatchSize);
        Backlog = backlog(this);
    }

    /// <summary>The what-is-settled counts; a field, so that the batch settles into it in place.</summary>
    public DeliveryTally Settled;

    /// <summary>Gets the pipeline's lock.</summary>
    public Gate Gate { get; } = new();

    /// <summary>Gets where envelopes wait before the loop takes them.</summary>
    public IBacklog Backlog { get; }

    /// <summary>Gets the batch the loop has in hand.</summary>
    public BatchInHand Batch { get; }

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
        return tally.ToStats(LastSequence, (Batch.Count - claimed) + Backlog.Count, failingSince);
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
            : Backlog.OldestSequence is long oldest && oldest != long.MaxValue ? oldest - 1
            : LastSequence;
    }

    /// <summary>Gets when the oldest pending envelope (in hand or waiting) was queued, as a timestamp.</summary>
    public bool TryPeekOldestQueuedAt(out long queuedAt)
    {
        if (Batch.TryPeekUnclaimed(out PendingEnvelope oldest))
        {
            queuedAt = oldest.QueuedAt;
            return true;
        }

        return Backlog.TryPeekOldestQueuedAt(out queuedAt);
    }

    /// <summary>A task that completes once every envelope through <paramref name="sequence"/> is settled.</summary>
    public Task WaitForSettled(long sequence) => _waiters.WaitFor(sequence, SettledThrough());

    /// <summary>Releases the waiters whose envelopes are all settled now.</summary>
    public void ReleaseWaiters() => _waiters.Release(SettledThrough());

    /// <summary>Admits one envelope into the backlog.</summary>
    public void Admit(in PendingEnvelope item, ref DeliveryIntake intake)
    {
        Invariants.Held(Gate, "the pipeline's lock");
        Backlog.Append(item, ref intake);
    }

    /// <summary>Admits a CRITICAL publish's two envelopes into the backlog, together (or shed together).</summary>
    public void Admit(in PendingEnvelope lead, in PendingEnvelope follower, ref DeliveryIntake intake)
    {
        Invariants.Held(Gate, "the pipeline's lock");
        Backlog.Append(lead, follower, ref intake);
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

        long inHand = Batch.Abandon(ref Settled, out first);
        long count = inHand + Backlog.Abandon(out PendingEnvelope oldestWaiting);
        first = inHand == 0 ? oldestWaiting : first;
        Settled.DroppedShutdown += count;
        Abandoned = true;
        ReleaseWaiters();
        return count;
    }
}
