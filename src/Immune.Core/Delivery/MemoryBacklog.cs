namespace Immune.Delivery;

/// <summary>
/// The backlog without a spool: a bounded queue in memory (<see cref="DeliveryQueue"/>, CRITICAL envelopes shed last),
/// with nothing to commit and nothing on disk.
/// </summary>
internal sealed class MemoryBacklog(DeliveryLedger ledger, int capacity) : IBacklog
{
    private readonly DeliveryQueue _queue = new(capacity);

    public long Count => _queue.Count;

    public int InMemory => _queue.Count;

    public long OldestSequence => _queue.OldestSequence ?? long.MaxValue;

    public bool Uncommitted => false;

    public bool TryPeekOldestQueuedAt(out long queuedAt)
    {
        bool any = _queue.TryPeek(out PendingEnvelope oldest);
        queuedAt = any ? oldest.QueuedAt : 0;
        return any;
    }

    public void Append(in PendingEnvelope item, ref DeliveryIntake intake)
    {
        intake.Queued(item.Sequence);
        ledger.Shed(_queue.Enqueue(item, out PendingEnvelope shed), shed, ref intake);
    }

    public void Append(in PendingEnvelope lead, in PendingEnvelope follower, ref DeliveryIntake intake)
    {
        intake.Queued(lead.Sequence);
        intake.Queued(follower.Sequence);
        ledger.Shed(_queue.Enqueue(lead, follower, out PendingEnvelope shed), shed, ref intake);
    }

    public void Commit(long sequence)
    {
    }

    public int Take(BatchInHand batch) => batch.Take(_queue);

    public int Read(BatchInHand batch) => 0; // nothing waits on disk

    public long Abandon(out PendingEnvelope first) => _queue.Clear(out first);
}
