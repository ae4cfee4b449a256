using Immune.Delivery;
using Immune.Tests.TestDoubles;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="DiskBacklog"/>: the envelopes that wait on disk only, counted with their queue times, next in line only
/// when memory holds nothing older, read back in order a batch at a time, and given up whole (counted) when the spool
/// cannot read them.
/// </summary>
public sealed class DiskBacklogTests
{
    private static PendingEnvelope Item(long sequence, long queuedAt = 0)
        => new PendingEnvelope(sequence, EnvelopeKind.EventPublished, new ImmuneEvent(sequence, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m"), DateTimeOffset.UnixEpoch, default, default)
        {
            QueuedAt = queuedAt,
        };

    private static EventEnvelope Envelope(long sequence) => new(
        $"evt_{sequence}", ImmuneEventTypes.EventPublished, "s", null, DateTimeOffset.UnixEpoch,
        new ImmuneEventPublishedPayload(sequence, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", DateTimeOffset.UnixEpoch), new EventMeta("c"));

    [Fact]
    public void Add_CountsInOrder_AndTheBacklogIsNextOnlyWhenMemoryHoldsNothingOlder()
    {
        var backlog = new DiskBacklog(new StubEnvelopeSpool());
        var memory = new DeliveryQueue(10);
        backlog.OldestSequence.ShouldBe(long.MaxValue);
        backlog.IsNext(memory).ShouldBeFalse(); // nothing waits on disk

        memory.Enqueue(Item(3), out _);
        backlog.Add(Item(4, queuedAt: 40));
        backlog.Add(Item(5, queuedAt: 50));

        (backlog.Count, backlog.From, backlog.OldestSequence).ShouldBe((2L, 4L, 4L));
        backlog.IsNext(memory).ShouldBeFalse(); // 3, in memory, goes first
        memory.TryDequeue(out _);
        backlog.IsNext(memory).ShouldBeTrue();
        backlog.TryPeekQueuedAt(out long queuedAt).ShouldBeTrue();
        queuedAt.ShouldBe(40);
    }

    [Fact]
    public void ReadThenTake_GivesTheOldestBack_InOrder_WithTheirQueueTimes_AndMovesOn()
    {
        var spool = new StubEnvelopeSpool();
        var backlog = new DiskBacklog(spool);
        for (long s = 10; s < 15; s++)
        {
            spool.Records.Add((s, Envelope(s)));
            backlog.Add(Item(s, queuedAt: s * 100));
        }

        backlog.Read(backlog.From, 3).ShouldBeTrue();
        backlog.TryTake(out ReadOnlySpan<PendingEnvelope> read).ShouldBeTrue();
        PendingEnvelope[] taken = read.ToArray();

        taken.Select(p => (p.Sequence, p.QueuedAt, p.Built!.Id)).ShouldBe([(10L, 1000L, "evt_10"), (11L, 1100L, "evt_11"), (12L, 1200L, "evt_12")]);
        (backlog.Count, backlog.From).ShouldBe((2L, 13L));
        spool.Reads.ShouldBe([(10L, 3)]);
    }

    [Fact]
    public void ASpoolThatCannotRead_OrThrows_OrGivesNothing_IsAFailedRead_AndLoseGivesUpEverythingWaiting()
    {
        var spool = new StubEnvelopeSpool { Fails = true };
        var backlog = new DiskBacklog(spool);
        backlog.Add(Item(7));
        backlog.Add(Item(8));

        backlog.Read(7, 10).ShouldBeFalse();
        spool.Fails = false;
        spool.Throws = true;
        backlog.Read(7, 10).ShouldBeFalse(); // the loop never dies of a read
        spool.Throws = false;
        backlog.Read(7, 10).ShouldBeFalse(); // the files hold nothing from there: as good as unreadable

        backlog.Lose(out PendingEnvelope first).ShouldBe(2);
        first.Sequence.ShouldBe(7); // named in the drop report, though its envelope could not be read
        (backlog.Count, backlog.OldestSequence).ShouldBe((0L, long.MaxValue));
    }

    [Fact]
    public void CountBefore_StopsAtTheOldestInMemory_ThatTheDiskRefusedWhileItWasFull()
    {
        var backlog = new DiskBacklog(new StubEnvelopeSpool());
        foreach (long s in new long[] { 10, 11, 12, 20, 21 })
        {
            backlog.Add(Item(s));
        }

        backlog.CountBefore(long.MaxValue, 256).ShouldBe(5);
        backlog.CountBefore(13, 256).ShouldBe(3); // 13 to 19 wait in memory: they go before 20
        backlog.CountBefore(long.MaxValue, 2).ShouldBe(2);
        backlog.CountBefore(10, 256).ShouldBe(0);
    }

    [Fact]
    public void TryTake_TheSpoolGivesBackOtherSequencesThanThoseWaiting_TakesNothing()
    {
        var spool = new StubEnvelopeSpool();
        var backlog = new DiskBacklog(spool);
        spool.Records.Add((10, Envelope(10)));
        spool.Records.Add((12, Envelope(12))); // 11 is not in the files
        backlog.Add(Item(10));
        backlog.Add(Item(11));

        backlog.Read(10, 2).ShouldBeTrue();
        backlog.TryTake(out _).ShouldBeFalse();
        backlog.Count.ShouldBe(2);
    }
}
