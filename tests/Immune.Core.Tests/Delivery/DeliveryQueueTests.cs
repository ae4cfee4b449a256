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
        foreach (long s in order) queue.Enqueue(Item(s, s % 2 == 0 ? Critical : Info), out _).ShouldBe(0);

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

        queue.Enqueue(Item(4, Critical), out PendingEnvelope shed).ShouldBe(1);

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

        queue.Enqueue(Item(3, Info), out PendingEnvelope newcomer).ShouldBe(1);
        newcomer.Sequence.ShouldBe(3);
        queue.Enqueue(Item(4, Critical), out PendingEnvelope oldest).ShouldBe(1);
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
            if (queue.Enqueue(Item(++sequence, critical ? Critical : Info), out PendingEnvelope shed) > 0 && shed.IsCritical)
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

    private static (PendingEnvelope Lead, PendingEnvelope Follower) Pair(long lead)
        => (Item(lead, Critical) with { Leads = true }, new PendingEnvelope(lead + 1, EnvelopeKind.CriticalEvent, Critical, DateTimeOffset.UnixEpoch, default, default(ActivityTraceId)));

    [Fact]
    public void Enqueue_APairIntoAQueueFullOfCriticalPairs_ShedsTheOldestPairWhole()
    {
        var queue = new DeliveryQueue(4);
        (PendingEnvelope a, PendingEnvelope b) = Pair(1);
        (PendingEnvelope c, PendingEnvelope d) = Pair(3);
        queue.Enqueue(a, b, out _).ShouldBe(0);
        queue.Enqueue(c, d, out _).ShouldBe(0);

        (PendingEnvelope e, PendingEnvelope f) = Pair(5);
        queue.Enqueue(e, f, out PendingEnvelope first).ShouldBe(2);

        first.Sequence.ShouldBe(1);
        var left = new List<long>();
        while (queue.TryDequeue(out PendingEnvelope item)) left.Add(item.Sequence);
        left.ShouldBe([3, 4, 5, 6]);
    }

    [Fact]
    public void Enqueue_APairAgainstOneFreeSlotAndAnInfo_ShedsTheInfoOnly()
    {
        var queue = new DeliveryQueue(3);
        queue.Enqueue(Item(1, Info), out _);
        queue.Enqueue(Item(2, Critical), out _);

        (PendingEnvelope lead, PendingEnvelope follower) = Pair(3);
        queue.Enqueue(lead, follower, out PendingEnvelope first).ShouldBe(1);

        first.Sequence.ShouldBe(1);
        queue.Count.ShouldBe(3);
    }

    [Fact]
    public void Enqueue_APairIntoAQueueOfOne_IsAdmittedWholeIntoTheEmptyQueue()
    {
        var queue = new DeliveryQueue(1);
        queue.Enqueue(Item(1, Critical), out _);

        (PendingEnvelope lead, PendingEnvelope follower) = Pair(2);
        queue.Enqueue(lead, follower, out PendingEnvelope first).ShouldBe(1);

        first.Sequence.ShouldBe(1);
        queue.Count.ShouldBe(2); // over the capacity by one: a CRITICAL publish is never split, nor lost for the queue's size
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(2, 8)]
    [InlineData(5, 9)]
    [InlineData(16, 10)]
    public void Enqueue_SeededRandomTrafficOfSinglesAndPairs_NeverKeepsAFollowerWhoseLeadWasShed(int capacity, int seed)
    {
        var random = new Random(seed);
        var queue = new DeliveryQueue(capacity);
        var shed = new HashSet<long>();
        var present = new HashSet<long>();
        long sequence = 0;
        for (int step = 0; step < 20_000; step++)
        {
            var added = new List<long>();
            switch (random.Next(4))
            {
                case 0:
                    if (queue.TryDequeue(out PendingEnvelope taken))
                    {
                        present.Remove(taken.Sequence); // delivered, not shed
                    }

                    continue;
                case 1:
                    (PendingEnvelope lead, PendingEnvelope follower) = Pair(sequence + 1);
                    sequence += 2;
                    queue.Enqueue(lead, follower, out _);
                    added.AddRange([lead.Sequence, follower.Sequence]);
                    break;
                default:
                    queue.Enqueue(Item(++sequence, random.Next(4) == 0 ? Critical : Info), out _);
                    added.Add(sequence);
                    break;
            }

            var left = new List<PendingEnvelope>();
            while (queue.TryDequeue(out PendingEnvelope item)) left.Add(item);
            var now = left.Select(item => item.Sequence).ToHashSet();
            shed.UnionWith(present.Concat(added).Where(s => !now.Contains(s)));
            present = now;
            for (int i = 0; i < left.Count; i++)
            {
                if (left[i].Kind == EnvelopeKind.CriticalEvent)
                {
                    shed.ShouldNotContain(left[i].Sequence - 1, $"step {step}: a critical event kept while its publication was shed");
                }

                // Back in, in order, pairs as pairs: it all fit before.
                bool pair = left[i].Leads && i + 1 < left.Count && left[i + 1].Sequence == left[i].Sequence + 1;
                (pair ? queue.Enqueue(left[i], left[++i], out _) : queue.Enqueue(left[i], out _)).ShouldBe(0);
            }

            queue.Count.ShouldBeLessThanOrEqualTo(Math.Max(capacity, 2));
        }

        shed.Count.ShouldBeGreaterThan(1_000); // the traffic did fill the queue
    }
}
