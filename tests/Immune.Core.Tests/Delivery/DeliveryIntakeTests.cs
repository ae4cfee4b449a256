using Immune.Delivery;
using Immune.Internal;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="DeliveryIntake"/>: what a caller queues under its locks is announced by the disposal after them, once,
/// even when the caller throws; what was shed is reported then, once, with its count.
/// </summary>
public sealed class DeliveryIntakeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
    private readonly TestMeterFactory _meters = new();
    private readonly MetricCollector<long> _queued;
    private readonly MetricCollector<long> _dropped;
    private readonly FakeLogger _logger = new();

    public DeliveryIntakeTests()
    {
        _queued = new MetricCollector<long>(_meters, "Immune", "immune.envelopes.queued");
        _dropped = new MetricCollector<long>(_meters, "Immune", "immune.envelopes.dropped");
    }

    public void Dispose()
    {
        _queued.Dispose();
        _dropped.Dispose();
        _meters.Dispose();
    }

    private long QueuedMetric => _queued.GetMeasurementSnapshot().Sum(m => m.Value);

    private PipelineHarness Harness(IEventStream stream, Action<ImmuneOptions>? configure = null) => new(stream, _time, configure, _logger, _meters);

    [Fact]
    public async Task Dispose_AnnouncesOnce_AndWhatTheIntakeCountedStaysReadable()
    {
        var stream = new InMemoryEventStream();
        await using PipelineHarness harness = Harness(stream);
        DeliveryPipeline pipeline = harness.Pipeline;

        DeliveryIntake intake = new(pipeline);
        lock (harness.ServiceGate)
        {
            PipelineHarness.Enqueue(ref intake, harness.Event(ImmuneSeverity.Info, "a"));
            PipelineHarness.Enqueue(ref intake, harness.Event(ImmuneSeverity.Critical, "b")); // and its immune.critical_event
        }

        pipeline.GetStats().Queued.ShouldBe(3); // counted in the stats under the lock
        QueuedMetric.ShouldBe(0);               // but not yet announced

        intake.Dispose();
        intake.Dispose();

        QueuedMetric.ShouldBe(3);
        (intake.Count, intake.LastSequence).ShouldBe((3, 3L));
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        stream.Envelopes.Count.ShouldBe(3);
    }

    [Fact]
    public async Task Dispose_InAFinally_AnnouncesWhatWasQueuedBeforeTheCallerThrew()
    {
        var stream = new InMemoryEventStream();
        await using PipelineHarness harness = Harness(stream);
        DeliveryPipeline pipeline = harness.Pipeline;

        Should.Throw<InvalidOperationException>(() =>
        {
            DeliveryIntake intake = new(pipeline);
            try
            {
                lock (harness.ServiceGate)
                {
                    PipelineHarness.Enqueue(ref intake, harness.Event(ImmuneSeverity.Warning, "queued, then the caller failed"));
                    throw new InvalidOperationException("the caller failed after queueing");
                }
            }
            finally
            {
                intake.Dispose();
            }
        });

        QueuedMetric.ShouldBe(1);
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        stream.Envelopes.Single().Payload.Message.ShouldBe("queued, then the caller failed");
    }

    [Fact]
    public async Task Sheds_AreReportedAtDisposal_OnceForTheIntake_NamingTheFirstAndCountingAll()
    {
        var gate = new TaskCompletionSource();
        var stream = ScriptedStream.Gated(gate);
        await using PipelineHarness harness = Harness(stream, o => o.QueueCapacity = 1);
        DeliveryPipeline pipeline = harness.Pipeline;
        harness.Publish(ImmuneSeverity.Info, "in flight");

        await stream.WhenCalled(1);
        DeliveryIntake intake = new(pipeline);
        lock (harness.ServiceGate)
        {
            PipelineHarness.Enqueue(ref intake, harness.Event(ImmuneSeverity.Info, "shed first")); // sequence 2
            PipelineHarness.Enqueue(ref intake, harness.Event(ImmuneSeverity.Info, "shed second"));
            PipelineHarness.Enqueue(ref intake, harness.Event(ImmuneSeverity.Info, "kept"));
        }

        (intake.ShedCount, intake.FirstShed.Sequence).ShouldBe((2, 2L));
        _dropped.GetMeasurementSnapshot().ShouldBeEmpty(); // reported after the locks, not under them
        intake.Dispose();

        _dropped.GetMeasurementSnapshot().Select(m => (m.Value, m.Tags["reason"])).ShouldBe([(2L, (object?)Reasons.QueueFull)]);
        FakeLogRecord log = _logger.WithName("EnvelopeDropped").ShouldHaveSingleItem();
        log.GetStructuredStateValue("Sequence").ShouldBe("2");
        log.GetStructuredStateValue("Suppressed").ShouldBe("1");

        gate.SetResult();
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["in flight", "kept"]);
        pipeline.GetStats().ShouldBeBalanced();
    }

    [Fact]
    public void WithoutAPipeline_AnIntakeQueuesAndAnnouncesNothing()
    {
        var intake = new DeliveryIntake(null);
        var e = new ImmuneEvent(1, _time.GetUtcNow(), ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "published nowhere");
        PipelineHarness.Enqueue(ref intake, e); // no lock needed: nothing is queued
        intake.Dispose();

        (intake.Count, intake.LastSequence, intake.ShedCount).ShouldBe((0, 0L, 0));
        QueuedMetric.ShouldBe(0);
    }
}
