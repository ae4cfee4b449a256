using System.Diagnostics;
using Immune.Delivery;
using DeliveryResult = Immune.Delivery.Settlement;

namespace Immune.Tests.Delivery;

public sealed class BatchInHandTests
{
    private static readonly ImmuneEvent Event = new(1, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "e");
    private static readonly DeliveryResult Delivered = new(Outcome.Delivered, 1, null, TimeSpan.Zero);

    private static (BatchInHand Batch, DeliveryQueue Queue) Filled(int capacity, int queued)
    {
        var queue = new DeliveryQueue(100);
        for (int s = 1; s <= queued; s++) queue.Enqueue(new PendingEnvelope(s, EnvelopeKind.EventPublished, Event, DateTimeOffset.UnixEpoch, default, default(ActivityTraceId)), out _);
        var batch = new BatchInHand(capacity);
        batch.Take(queue);
        return (batch, queue);
    }

    [Fact]
    public void Take_TakesUpToCapacityInSequenceOrder()
    {
        (BatchInHand batch, DeliveryQueue queue) = Filled(capacity: 4, queued: 6);

        batch.Count.ShouldBe(4);
        batch[0].Sequence.ShouldBe(1);
        batch[3].Sequence.ShouldBe(4);
        queue.Count.ShouldBe(2);
    }

    [Fact]
    public void TryClaim_InOrder_CountsWhatIsFinalAndSettleCountsAll()
    {
        (BatchInHand batch, _) = Filled(4, 4);
        var tally = default(DeliveryTally);

        batch.TryClaim(1, Delivered, out PendingEnvelope first).ShouldBeTrue();
        first.Sequence.ShouldBe(1);
        batch.TryClaim(3, new DeliveryResult(Outcome.FailedTimeout, 3, null, TimeSpan.Zero), out first).ShouldBeTrue();
        first.Sequence.ShouldBe(2);
        batch.CountClaimed(ref tally).ShouldBe(4);
        batch.Settle(ref tally);

        (tally.Delivered, tally.FailedTimeout).ShouldBe((2L, 6L)); // counted once by CountClaimed, once by Settle
        batch.Count.ShouldBe(0);
    }

    [Fact]
    public void Abandon_AfterSomeClaims_ReturnsTheRestAndTheLoopCanClaimNoMore()
    {
        (BatchInHand batch, _) = Filled(4, 4);
        var tally = default(DeliveryTally);
        batch.TryClaim(1, Delivered, out _).ShouldBeTrue();

        batch.Abandon(ref tally, out PendingEnvelope first).ShouldBe(3);

        first.Sequence.ShouldBe(2);
        tally.Delivered.ShouldBe(1);
        batch.TryClaim(1, Delivered, out _).ShouldBeFalse();
        batch.TryClaimRest(Delivered, out _, out _).ShouldBeFalse();
    }

    [Fact]
    public async Task TryClaimAndAbandon_Racing_EveryEnvelopeIsCountedByExactlyOneSide()
    {
        var random = new Random(7);
        for (int run = 0; run < 1_000; run++)
        {
            (BatchInHand batch, _) = Filled(8, 8);
            var tally = default(DeliveryTally);
            int claimedByLoop = 0, started = 0;
            int pause = random.Next(200);
            Task loop = Task.Run(() =>
            {
                Volatile.Write(ref started, 1);
                for (int i = 0; i < 8 && batch.TryClaim(1, Delivered, out _); i++)
                {
                    claimedByLoop++;
                    Thread.SpinWait(pause / 8);
                }
            });

            var spin = new SpinWait();
            while (Volatile.Read(ref started) == 0) spin.SpinOnce(); // yields when the loop's thread waits for a core
            Thread.SpinWait(pause); // abandon somewhere in the middle of the loop's claims
            int dropped = batch.Abandon(ref tally, out _);
            await loop;

            (tally.Delivered + dropped).ShouldBe(8, $"run {run}");
            tally.Delivered.ShouldBe(claimedByLoop, $"run {run}"); // what the loop claimed, disposal counted as such; the rest it dropped
        }
    }
}
