using System.Diagnostics;
using Immune.Delivery;
using Immune.Spool;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="SpoolBacklog"/>: an append does no I/O; a commit writes what was appended, in order, and places each
/// envelope in memory up to the capacity and on disk beyond it; the loop takes from memory until the next waits on disk,
/// and reads those back in order; a full spool refuses a CRITICAL publish whole.
/// </summary>
public sealed class SpoolBacklogTests
{
    private readonly StubEnvelopeSpool _spool = new();

    private static PendingEnvelope Item(long sequence, ImmuneSeverity severity = ImmuneSeverity.Info, EnvelopeKind kind = EnvelopeKind.EventPublished)
        => new(sequence, kind, new ImmuneEvent(sequence, DateTimeOffset.UnixEpoch, severity, ImmuneEventType.ErrorSpike, "m"), DateTimeOffset.UnixEpoch, default, ActivityTraceId.CreateRandom()) { QueuedAt = sequence * 10 };

    /// <summary>Announces as the pipeline does for the backlog's own intakes: commits what they queued, and counts what they shed.</summary>
    private sealed class Announcer : IIntakeSink
    {
        public IBacklog? Backlog { get; set; }

        public int Refused { get; private set; }

        public void Enqueue(ref DeliveryIntake intake, EnvelopeKind kind, ImmuneEvent source, DateTimeOffset timestamp, ImmuneSeverity previous, ActivityTraceId correlation, bool critical)
            => throw new NotSupportedException("The backlog queues through its ledger.");

        public void Announce(in DeliveryIntake intake)
        {
            Refused += intake.RefusedCount;
            if (intake.Count > 0)
            {
                Backlog!.Commit(intake.LastSequence);
            }
        }
    }

#if NET9_0_OR_GREATER
    private static readonly Lock ServiceGate = new(); // the service's lock, which the commit must not be called under
#else
    private static readonly object ServiceGate = new();
#endif

    private (DeliveryLedger Ledger, IBacklog Backlog) Make(Announcer announcer, int capacity, int maxBatchSize = 10)
    {
        var reporter = new DeliveryReporter(NullLogger.Instance, new Immune.Internal.ImmuneMetrics(null, () => 0, () => 0), TimeProvider.System, TimeSpan.FromSeconds(1));
        var ledger = new DeliveryLedger(maxBatchSize, l => new SpoolBacklog(
            announcer, l, _spool, new EnvelopeFactory("checkout", "0123456789abcdef"), ServiceGate, TimeProvider.System, reporter, capacity, maxBatchSize));
        announcer.Backlog = ledger.Backlog;
        return (ledger, ledger.Backlog);
    }

    private static void Append(DeliveryLedger ledger, IBacklog backlog, params PendingEnvelope[] items)
    {
        lock (ledger.Gate)
        {
            var intake = new DeliveryIntake(null);
            foreach (PendingEnvelope item in items)
            {
                ledger.NextSequence().ShouldBe(item.Sequence); // sequences as the pipeline gives them
                backlog.Append(item, ref intake);
            }
        }
    }

    [Fact]
    public void Append_WritesNothing_CommitWritesInOrder_MemoryUpToCapacity_TheRestOnDisk_TakenThenReadBackInOrder()
    {
        var announcer = new Announcer();
        (DeliveryLedger ledger, IBacklog backlog) = Make(announcer, capacity: 2, maxBatchSize: 10);
        Append(ledger, backlog, Item(1), Item(2), Item(3), Item(4), Item(5));

        _spool.Writes.ShouldBeEmpty(); // no I/O under the pipeline's lock
        lock (ledger.Gate) { (backlog.Count, backlog.Uncommitted, backlog.OldestSequence).ShouldBe((5L, true, 1L)); }

        backlog.Commit(5);

        _spool.Writes.Select(w => w.Sequence).ShouldBe([1L, 2L, 3L, 4L, 5L]);
        lock (ledger.Gate)
        {
            (backlog.Count, backlog.InMemory, backlog.Uncommitted).ShouldBe((5L, 2, false));
            backlog.Take(ledger.Batch).ShouldBe(2); // memory first, never past what waits on disk
            (ledger.Batch[0].Sequence, ledger.Batch[1].Sequence).ShouldBe((1L, 2L));
            ledger.Batch.TryClaimRest(new Settlement(Outcome.Delivered, 1, null, TimeSpan.Zero), out _, out _).ShouldBeTrue();
            ledger.Batch.Settle(ref ledger.Settled);
            backlog.Take(ledger.Batch).ShouldBe(-1); // the next wait on disk
        }

        backlog.Read(ledger.Batch).ShouldBe(3); // read outside the lock
        Enumerable.Range(0, 3).Select(i => ledger.Batch[i].Sequence).ShouldBe([3L, 4L, 5L]);
        Enumerable.Range(0, 3).Select(i => ledger.Batch[i].Built!.Id).ShouldBe(_spool.Records.Skip(2).Select(r => r.Envelope.Id));
        _spool.Reads.ShouldBe([(3L, 3)]); // as many as wait there, one read
    }

    [Fact]
    public void Commit_WhileOthersWaitOnDisk_ALaterOneWaitsThereToo_BehindThem_EvenWithRoomInMemory()
    {
        var announcer = new Announcer();
        (DeliveryLedger ledger, IBacklog backlog) = Make(announcer, capacity: 2);
        Append(ledger, backlog, Item(1), Item(2), Item(3));
        backlog.Commit(3); // 1 and 2 in memory, 3 on disk
        lock (ledger.Gate)
        {
            backlog.Take(ledger.Batch).ShouldBe(2);
            ledger.Batch.TryClaimRest(new Settlement(Outcome.Delivered, 1, null, TimeSpan.Zero), out _, out _).ShouldBeTrue();
            ledger.Batch.Settle(ref ledger.Settled);
        }

        Append(ledger, backlog, Item(4));
        backlog.Commit(4);

        lock (ledger.Gate)
        {
            (backlog.InMemory, backlog.Count).ShouldBe((0, 2L)); // memory has room, but 3 waits on disk ahead of it
            backlog.Take(ledger.Batch).ShouldBe(-1);
        }

        backlog.Read(ledger.Batch).ShouldBe(2);
        (ledger.Batch[0].Sequence, ledger.Batch[1].Sequence).ShouldBe((3L, 4L));
    }

    [Fact]
    public void Commit_SpoolFullForACriticalPublish_RefusesItWhole_CountedAsSpoolFull()
    {
        var announcer = new Announcer();
        (DeliveryLedger ledger, IBacklog backlog) = Make(announcer, capacity: 10);
        _spool.Answer = static sequence => sequence == 2 ? SpoolWrite.Full : SpoolWrite.Written;
        Append(ledger, backlog, Item(1), Item(2, ImmuneSeverity.Critical) with { Leads = true }, Item(3, ImmuneSeverity.Critical, EnvelopeKind.CriticalEvent));

        backlog.Commit(3);

        _spool.Pairs.ShouldBe([(2L, 3L)]); // written as one pair, which the real spool admits or refuses whole
        announcer.Refused.ShouldBe(1); // the stub refused only the lead: the follower is placed as the spool answered
        lock (ledger.Gate)
        {
            ledger.Settled.DroppedSpoolFull.ShouldBe(1);
            (backlog.Count, backlog.OldestSequence).ShouldBe((2L, 1L));
        }
    }

    [Fact]
    public void Abandon_CountsMemoryDiskAndWhatWasNotWrittenYet()
    {
        var announcer = new Announcer();
        (DeliveryLedger ledger, IBacklog backlog) = Make(announcer, capacity: 1);
        Append(ledger, backlog, Item(1), Item(2));
        backlog.Commit(2); // 1 in memory, 2 on disk
        Append(ledger, backlog, Item(3)); // handed over, not written

        lock (ledger.Gate)
        {
            backlog.Abandon(out PendingEnvelope first).ShouldBe(3);
            first.Sequence.ShouldBe(1);
            (backlog.Count, backlog.OldestSequence, backlog.Uncommitted).ShouldBe((0L, long.MaxValue, false));
        }
    }
}
