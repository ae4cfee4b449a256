using System.Diagnostics;
using Immune.Delivery;

namespace Immune.Tests.Delivery;

/// <summary><see cref="MemoryBacklog"/>: the backlog without a spool, a bounded queue that sheds the oldest INFO first and a CRITICAL publish whole.</summary>
public sealed class MemoryBacklogTests
{
    private static PendingEnvelope Item(long sequence, ImmuneSeverity severity = ImmuneSeverity.Info, EnvelopeKind kind = EnvelopeKind.EventPublished)
        => new(sequence, kind, new ImmuneEvent(sequence, DateTimeOffset.UnixEpoch, severity, ImmuneEventType.ErrorSpike, "m"), DateTimeOffset.UnixEpoch, default, default(ActivityTraceId)) { QueuedAt = sequence * 10 };

    private static (DeliveryLedger Ledger, IBacklog Backlog) Make(int capacity, int maxBatchSize = 10)
    {
        var ledger = new DeliveryLedger(maxBatchSize, l => new MemoryBacklog(l, capacity));
        return (ledger, ledger.Backlog);
    }

    [Fact]
    public void Append_InOrder_NothingToCommit_TakenInOrderAtMostABatch()
    {
        (DeliveryLedger ledger, IBacklog backlog) = Make(capacity: 10, maxBatchSize: 2);
        lock (ledger.Gate)
        {
            var intake = new DeliveryIntake(null);
            for (int i = 0; i < 3; i++) backlog.Append(Item(ledger.NextSequence()), ref intake);

            (intake.Count, intake.LastSequence).ShouldBe((3, 3L));
            (backlog.Count, backlog.InMemory, backlog.OldestSequence, backlog.Uncommitted).ShouldBe((3L, 3, 1L, false));
            backlog.TryPeekOldestQueuedAt(out long queuedAt).ShouldBeTrue();
            queuedAt.ShouldBe(10);

            backlog.Take(ledger.Batch).ShouldBe(2);
            (ledger.Batch[0].Sequence, ledger.Batch[1].Sequence).ShouldBe((1L, 2L));
            backlog.OldestSequence.ShouldBe(3);
        }

        backlog.Read(ledger.Batch).ShouldBe(0); // nothing ever waits on disk
    }

    [Fact]
    public void Append_Full_ShedsTheOldestInfo_NeverHalfACriticalPublish_CountedAsQueueFull()
    {
        (DeliveryLedger ledger, IBacklog backlog) = Make(capacity: 3);
        lock (ledger.Gate)
        {
            var intake = new DeliveryIntake(null);
            backlog.Append(Item(ledger.NextSequence(), ImmuneSeverity.Critical) with { Leads = true }, Item(ledger.NextSequence(), ImmuneSeverity.Critical, EnvelopeKind.CriticalEvent), ref intake);
            backlog.Append(Item(ledger.NextSequence()), ref intake);
            backlog.Append(Item(ledger.NextSequence(), ImmuneSeverity.Critical) with { Leads = true }, Item(ledger.NextSequence(), ImmuneSeverity.Critical, EnvelopeKind.CriticalEvent), ref intake);

            // Room for two: the INFO goes, then the oldest CRITICAL publish, whole.
            (intake.ShedCount, intake.FirstShed.Sequence).ShouldBe((3, 3L)); // the INFO was the first to go
            ledger.Settled.DroppedQueueFull.ShouldBe(3);
            (backlog.Count, backlog.OldestSequence).ShouldBe((2L, 4L));
        }
    }

    [Fact]
    public void Abandon_GivesUpEverythingWaiting_WithTheOldest()
    {
        (DeliveryLedger ledger, IBacklog backlog) = Make(capacity: 10);
        lock (ledger.Gate)
        {
            var intake = new DeliveryIntake(null);
            for (int i = 0; i < 4; i++) backlog.Append(Item(ledger.NextSequence()), ref intake);

            backlog.Abandon(out PendingEnvelope first).ShouldBe(4);
            first.Sequence.ShouldBe(1);
            (backlog.Count, backlog.OldestSequence).ShouldBe((0L, long.MaxValue));
            backlog.TryPeekOldestQueuedAt(out _).ShouldBeFalse();
        }
    }
}
