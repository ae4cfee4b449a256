namespace Immune.Delivery;

/// <summary>What one publish or change queued: how many envelopes, the last sequence, what it shed (at most two), the loop's wake-up.</summary>
internal struct Enqueued
{
    public int Count;
    public long LastSequence;
    public int ShedCount;
    public PendingEnvelope FirstShed;
    public PendingEnvelope SecondShed;
    public TaskCompletionSource? Wakeup;
    public int RefusedCount;             // shed because the spool was full
    public PendingEnvelope FirstRefused;
}
