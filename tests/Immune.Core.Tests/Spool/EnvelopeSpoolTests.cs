using Immune.Delivery;
using Immune.Internal;
using Immune.Spool;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Spool;

/// <summary>
/// The spool's one entry point on a real disk: writing built envelopes, syncing on the service's clock (and only what
/// the pipeline says is settled), the freeze at a shutdown that gave up, the one log when the disk fails, and recovery
/// reported through the pipeline's reporter.
/// </summary>
public sealed class EnvelopeSpoolTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger<ImmuneService> _logger = new();
    private readonly ImmuneMetrics _metrics = new(null, () => 0, () => 0);

    public void Dispose()
    {
        _metrics.Dispose();
        _temp.Dispose();
    }

    private ImmuneOptions Options(TimeSpan? sync = null) => new() { SpoolDirectory = _temp.Path, SpoolSyncInterval = sync ?? TimeSpan.FromSeconds(1) };

    private EnvelopeSpool Open(ImmuneOptions options)
        => EnvelopeSpool.Open(options, new DeliveryReporter(_logger, _metrics, _time, TimeSpan.FromMinutes(1)), _time).ShouldNotBeNull();

    private static PendingEnvelope Built(long sequence)
    {
        EventEnvelope envelope = DurableSpoolTests.Envelope(sequence);
        var source = new ImmuneEvent(sequence, envelope.Timestamp, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m");
        return new PendingEnvelope(sequence, EnvelopeKind.EventPublished, source, envelope.Timestamp, default, default) { Built = envelope };
    }

    private List<EventEnvelope> Replay(EnvelopeSpool spool)
    {
        var replayed = new List<EventEnvelope>();
        spool.Recover(replayed.Add);
        return replayed;
    }

    /// <summary>A spool started as the service starts it (recovered, syncing on the clock) with sequences 1 to 6 written.</summary>
    private EnvelopeSpool SyncingWithSixWritten(Func<long> settledThrough)
    {
        EnvelopeSpool spool = Open(Options());
        Replay(spool);
        spool.StartSyncing(settledThrough);
        for (long sequence = 1; sequence <= 6; sequence++)
        {
            spool.Write(Built(sequence), settledThrough: 0).ShouldBe(SpoolWrite.Written);
        }

        return spool;
    }

    [Fact]
    public void Open_WithoutADirectory_IsNoSpool()
        => EnvelopeSpool.Open(new ImmuneOptions(), new DeliveryReporter(_logger, _metrics, _time, TimeSpan.FromMinutes(1)), _time).ShouldBeNull();

    [Fact]
    public void Write_ThenRead_TheBacklogComesBackInOrder()
    {
        using EnvelopeSpool spool = Open(Options());
        Replay(spool).ShouldBeEmpty();
        for (long sequence = 1; sequence <= 5; sequence++)
        {
            spool.Write(Built(sequence), settledThrough: 0).ShouldBe(SpoolWrite.Written);
        }

        var read = new List<(long Sequence, EventEnvelope Envelope)>();
        spool.Read(3, 10, read).ShouldBeTrue();
        read.Select(r => r.Sequence).ShouldBe([3L, 4L, 5L]);
        read.Select(r => r.Envelope.Id).ShouldBe(new[] { 3L, 4L, 5L }.Select(s => DurableSpoolTests.Envelope(s).Id));
    }

    [Fact]
    public void Syncing_OnTheServicesClock_ForgetsWhatThePipelineSettled_TheNextOwnerReplaysTheRest()
    {
        long settled = 0;
        using (EnvelopeSpool spool = SyncingWithSixWritten(() => settled))
        {
            settled = 4;
            _time.Advance(TimeSpan.FromSeconds(1)); // the sync tick: progress says 4 are settled
            spool.Dispose(); // a crash after the tick: no last sync
        }

        using EnvelopeSpool next = Open(Options());
        Replay(next).Select(e => e.Payload.EventId).ShouldBe([5L, 6L]);
    }

    [Fact]
    public void Freeze_AShutdownThatGaveUp_KeepsEverythingPastTheFrozenPointForTheNextOwner()
    {
        long settled = 0;
        using (EnvelopeSpool spool = SyncingWithSixWritten(() => settled))
        {
            settled = 2;
            spool.Freeze(2);   // disposal gave up here: 3 to 6 were settled as dropped, not delivered
            settled = 6;       // the pipeline now counts everything settled
            spool.Stop();      // the last sync must not forget 3 to 6
        }

        using EnvelopeSpool next = Open(Options());
        Replay(next).Select(e => e.Payload.EventId).ShouldBe([3L, 4L, 5L, 6L]);
    }

    [Fact]
    public void Write_AfterTheDiskWentAway_IsUnavailable_AndLogsOnce()
    {
        using EnvelopeSpool spool = Open(Options());
        Replay(spool);
        spool.Dispose(); // the files are closed under the spool: every write now fails as a disk fault would

        spool.Write(Built(1), 0).ShouldBe(SpoolWrite.Unavailable);
        spool.Write(Built(2), 0).ShouldBe(SpoolWrite.Unavailable);
        spool.Unavailable.ShouldBeTrue();
        _logger.WithName("SpoolUnavailable").Count.ShouldBe(1);
    }

    [Fact]
    public async Task SyncEveryWrite_WaitDurable_CompletesOnceTheRecordIsForced()
    {
        using EnvelopeSpool spool = Open(Options(TimeSpan.Zero));
        Replay(spool);
        spool.SyncsEveryWrite.ShouldBeTrue();

        spool.Write(Built(1), 0).ShouldBe(SpoolWrite.Written);
        spool.Durability.DurableThrough.ShouldBe(0);
        await spool.WaitDurableAsync(1);

        spool.Durability.DurableThrough.ShouldBe(1);
        spool.Unavailable.ShouldBeFalse();
        _logger.Collector.GetSnapshot().ShouldBeEmpty();
    }
}
