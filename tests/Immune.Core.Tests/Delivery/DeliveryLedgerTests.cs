using System.Diagnostics;
using Immune.Delivery;

namespace Immune.Tests.Delivery;

/// <summary>The pipeline's state under its lock: what is pending where, what is settled, and the accounting identity.</summary>
public sealed class DeliveryLedgerTests
{
    private static readonly ImmuneEvent Info = new(1, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "i");
    private static readonly ImmuneEvent Critical = new(2, DateTimeOffset.UnixEpoch, ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "c");

    private static PendingEnvelope Item(long sequence, ImmuneEvent e, EnvelopeKind kind = EnvelopeKind.EventPublished)
        => new(sequence, kind, e, DateTimeOffset.UnixEpoch, default, default(ActivityTraceId)) { QueuedAt = sequence * 10 };

    private static void Balanced(ImmuneDeliveryStats stats)
        => stats.Queued.ShouldBe(stats.Delivered + stats.Failed + stats.Dropped + stats.Pending);

    [Fact]
    public void Admit_IntoAFullQueue_ShedsTheOldestInfo_CountsIt_AndBalances()
    {
        var ledger = new DeliveryLedger(10, l => new MemoryBacklog(l, 2));
        lock (ledger.Gate)
        {
            var intake = new DeliveryIntake(null);
            ledger.Admit(Item(ledger.NextSequence(), Info), ref intake);
            ledger.Admit(Item(ledger.NextSequence(), Info), ref intake);
            ledger.Admit(Item(ledger.NextSequence(), Critical, EnvelopeKind.EventPublished) with { Leads = true }, Item(ledger.NextSequence(), Critical, EnvelopeKind.CriticalEvent), ref intake);

            intake.ShedCount.ShouldBe(2);
            intake.FirstShed.Sequence.ShouldBe(1);
            ImmuneDeliveryStats stats = ledger.Stats(null);
            (stats.Queued, stats.Dropped, stats.Pending).ShouldBe((4L, 2L, 2L));
            Balanced(stats);
            ledger.SettledThrough().ShouldBe(2); // the shed ones are settled; the pair waits
        }
    }

    [Fact]
    public void SettledThrough_AndOldestQueuedAt_FollowTheOldestPending()
    {
        var ledger = new DeliveryLedger(10, l => new MemoryBacklog(l, 10));
        lock (ledger.Gate)
        {
            ledger.SettledThrough().ShouldBe(0);
            ledger.TryPeekOldestQueuedAt(out long _).ShouldBeFalse();

            var intake = new DeliveryIntake(null);
            for (int i = 0; i < 3; i++) ledger.Admit(Item(ledger.NextSequence(), Info), ref intake);

            ledger.SettledThrough().ShouldBe(0);
            ledger.TryPeekOldestQueuedAt(out long queuedAt).ShouldBeTrue();
            queuedAt.ShouldBe(10);
            Task flushed = ledger.WaitForSettled(3);
            flushed.IsCompleted.ShouldBeFalse();

            ledger.Backlog.Take(ledger.Batch).ShouldBe(3);
            ledger.SettledThrough().ShouldBe(0); // in hand is not settled
            ledger.Batch.TryClaimRest(new Settlement(Outcome.Delivered, 1, null, TimeSpan.Zero), out _, out int claimed).ShouldBeTrue();
            claimed.ShouldBe(3);
            ledger.Batch.Settle(ref ledger.Settled);
            ledger.ReleaseWaiters();

            ledger.SettledThrough().ShouldBe(3);
            flushed.IsCompletedSuccessfully.ShouldBeTrue();
            (ledger.Stats(null).Delivered, ledger.Stats(null).Pending).ShouldBe((3L, 0L));
        }
    }

    [Fact]
    public void Abandon_CountsEverythingPendingOnce_AsShutdown_AndReleasesTheWaiters()
    {
        var ledger = new DeliveryLedger(2, l => new MemoryBacklog(l, 10));
        lock (ledger.Gate)
        {
            var intake = new DeliveryIntake(null);
            for (int i = 0; i < 5; i++) ledger.Admit(Item(ledger.NextSequence(), Info), ref intake);
            ledger.Backlog.Take(ledger.Batch).ShouldBe(2);
            Task flushed = ledger.WaitForSettled(5);

            ledger.Abandon(out PendingEnvelope first).ShouldBe(5);
            first.Sequence.ShouldBe(1);
            ledger.Abandon(out _).ShouldBe(0);

            ImmuneDeliveryStats stats = ledger.Stats(null);
            (stats.DroppedShutdown, stats.Pending).ShouldBe((5L, 0L));
            Balanced(stats);
            flushed.IsCompletedSuccessfully.ShouldBeTrue();
            ledger.Abandoned.ShouldBeTrue();
        }
    }
}
