using System.Diagnostics;
using Immune.Delivery;

namespace Immune.Tests.Delivery;

public sealed class DeliveryQueueTests
{
    private static readonly ImmuneEvent Info = new(1, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "i");
    private static readonly ImmuneEvent Critical = new(2, DateTimeOffset.UnixEpoch, ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "c");

    private static PendingEnvelope Item(long sequence, ImmuneEvent e) => new(sequence, EnvelopeKind.EventPublished, e, DateTimeOffset.UnixEpoch, default, default(ActivityTraceId));

    [Fact]
    public void TryDequeue_MixedLanes_LeavesInSequenceOrder()
    {
        var queue = new DeliveryQueue(10);
        long[] order = [1, 2, 3, 4, 5];
        foreach (long s in order) queue.Enqueue(Item(s, s % 2 == 0 ? Critical : Info), out _).ShouldBeFalse();

        var taken = new List<long>();
        while (queue.TryDequeue(out PendingEnvelope item)) taken.Add(item.Sequence);

        taken.ShouldBe(order);
        queue.OldestSequence.ShouldBeNull();
    }

    [Fact]
    public void Enqueue_Full_ShedsTheOldestNonCriticalFirst()
    {
        var queue = new DeliveryQueue(3);
        queue.Enqueue(Item(1, Critical), out _);
        queue.Enqueue(Item(2, Info), out _);
        queue.Enqueue(Item(3, Info), out _);

        queue.Enqueue(Item(4, Critical), out PendingEnvelope shed).ShouldBeTrue();

        shed.Sequence.ShouldBe(2);
        queue.Count.ShouldBe(3);
        queue.OldestSequence.ShouldBe(1);
    }

    [Fact]
    public void Enqueue_FullOfCritical_ShedsTheNewcomerWhenItIsNotCriticalElseTheOldestCritical()
    {
        var queue = new DeliveryQueue(2);
        queue.Enqueue(Item(1, Critical), out _);
        queue.Enqueue(Item(2, Critical), out _);

        queue.Enqueue(Item(3, Info), out PendingEnvelope newcomer).ShouldBeTrue();
        newcomer.Sequence.ShouldBe(3);
        queue.Enqueue(Item(4, Critical), out PendingEnvelope oldest).ShouldBeTrue();
        oldest.Sequence.ShouldBe(1);

        queue.TryDequeue(out PendingEnvelope next).ShouldBeTrue();
        next.Sequence.ShouldBe(2);
    }

    [Fact]
    public void Enqueue_SeededRandomTraffic_NeverExceedsCapacityAndKeepsEveryCriticalWhileAnyOtherRemains()
    {
        var random = new Random(99);
        var queue = new DeliveryQueue(16);
        long sequence = 0;
        for (int step = 0; step < 20_000; step++)
        {
            if (random.Next(3) == 0)
            {
                queue.TryDequeue(out _);
                continue;
            }

            bool critical = random.Next(4) == 0;
            if (queue.Enqueue(Item(++sequence, critical ? Critical : Info), out PendingEnvelope shed) && shed.IsCritical)
            {
                // A CRITICAL one goes only when no other is left: the queue now holds CRITICAL envelopes alone.
                var left = new List<PendingEnvelope>();
                while (queue.TryDequeue(out PendingEnvelope item)) left.Add(item);
                left.ShouldAllBe(item => item.IsCritical);
                foreach (PendingEnvelope item in left) queue.Enqueue(item, out _);
            }

            queue.Count.ShouldBeLessThanOrEqualTo(16);
        }
    }
}
