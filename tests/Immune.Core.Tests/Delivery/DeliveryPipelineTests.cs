using System.Diagnostics;
using Immune.Delivery;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="DeliveryPipeline"/> on its own, driven as the service drives it (queue under the service's lock, announce
/// after it): record order, shedding, flush watermarks, the oldest pending age and a shutdown that gives up.
/// </summary>
public sealed class DeliveryPipelineTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));

    private PipelineHarness Harness(IEventStream stream, Action<ImmuneOptions>? configure = null) => new(stream, _time, configure);

    [Fact]
    public async Task Enqueue_WithoutTheServicesLock_OrAnnounceUnderIt_IsCaughtByTheLockOrderChecks()
    {
        var stream = new InMemoryEventStream();
        await using PipelineHarness harness = Harness(stream);
        DeliveryPipeline pipeline = harness.Pipeline;
        var e = new ImmuneEvent(1, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m");

        Should.Throw<InvalidOperationException>(() =>
        {
            DeliveryIntake unlocked = new(pipeline);
            unlocked.Enqueue(EnvelopeKind.EventPublished, e, e.CreatedAt, default, ActivityTraceId.CreateRandom(), critical: false);
        }).Message.ShouldContain("the service's lock");

        DeliveryIntake intake = new(pipeline);
        lock (harness.ServiceGate)
        {
            intake.Enqueue(EnvelopeKind.EventPublished, e, e.CreatedAt, default, ActivityTraceId.CreateRandom(), critical: false);
            InvalidOperationException announcedUnderTheLock = Should.Throw<InvalidOperationException>(() => pipeline.Announce(new DeliveryIntake(pipeline)));
            announcedUnderTheLock.Message.ShouldContain("must not be held");
        }

        intake.Dispose();
        intake.Dispose(); // announced once: a second disposal queues and counts nothing more
        intake.Count.ShouldBe(1);
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        pipeline.GetStats().Delivered.ShouldBe(1);
    }

    [Fact]
    public async Task Enqueue_ThenDeliver_InRecordOrder_TheCriticalEventRightAfterItsPublication()
    {
        var stream = new InMemoryEventStream();
        await using PipelineHarness harness = Harness(stream);
        DeliveryPipeline pipeline = harness.Pipeline;

        harness.Publish(ImmuneSeverity.Info, "a");
        harness.Publish(ImmuneSeverity.Critical, "b");
        harness.Publish(ImmuneSeverity.Warning, "c");
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);

        stream.Envelopes.Select(e => (e.Type, e.Payload.Message)).ShouldBe(
        [
            (ImmuneEventTypes.EventPublished, "a"), (ImmuneEventTypes.EventPublished, "b"), (ImmuneEventTypes.CriticalEvent, "b"), (ImmuneEventTypes.EventPublished, "c"),
        ]);
        ImmuneDeliveryStats stats = pipeline.GetStats();
        (stats.Queued, stats.Delivered, stats.Pending).ShouldBe((4L, 4L, 0L));
    }

    [Fact]
    public async Task QueueFull_ShedsTheOldestNonCriticalFirst_AndKeepsCritical()
    {
        var gate = new TaskCompletionSource();
        var stream = ScriptedStream.Gated(gate);
        await using PipelineHarness harness = Harness(stream, o => o.QueueCapacity = 2);
        DeliveryPipeline pipeline = harness.Pipeline;

        harness.Publish(ImmuneSeverity.Info, "in flight");
        await stream.WhenCalled(1);
        harness.Publish(ImmuneSeverity.Info, "shed");
        harness.Publish(ImmuneSeverity.Critical, "kept"); // two envelopes: the INFO waiting is shed for them
        harness.Publish(ImmuneSeverity.Info, "shed too");  // full of CRITICAL: the newcomer is shed

        pipeline.GetStats().DroppedQueueFull.ShouldBe(2);
        gate.SetResult();
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);

        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["in flight", "kept", "kept"]);
        pipeline.GetStats().ShouldBeBalanced();
    }

    [Fact]
    public async Task FlushAsync_WaitsForWhatWasQueuedBeforeIt_NotForWhatCameAfter()
    {
        var first = new TaskCompletionSource();
        var stream = new ScriptedStream(call => call.Number == 1 ? new ValueTask(first.Task) : ValueTask.CompletedTask);
        await using PipelineHarness harness = Harness(stream);
        DeliveryPipeline pipeline = harness.Pipeline;

        harness.Publish(ImmuneSeverity.Info);
        Task flushed = pipeline.FlushAsync(CancellationToken.None);
        await stream.WhenCalled(1);
        flushed.IsCompleted.ShouldBeFalse();

        first.SetResult();
        await flushed.WaitAsync(Events.HangGuard);
    }

    [Fact]
    public async Task OldestPendingAge_GrowsWhileTheHeadWaits_ZeroOnceDelivered()
    {
        var gate = new TaskCompletionSource();
        var stream = ScriptedStream.Gated(gate);
        await using PipelineHarness harness = Harness(stream, o => o.PublishTimeout = TimeSpan.FromHours(1));
        DeliveryPipeline pipeline = harness.Pipeline;

        pipeline.OldestPendingAge.ShouldBe(TimeSpan.Zero);
        harness.Publish(ImmuneSeverity.Info);
        await stream.WhenCalled(1);
        harness.Time.Advance(TimeSpan.FromSeconds(7));
        pipeline.OldestPendingAge.ShouldBe(TimeSpan.FromSeconds(7));

        gate.SetResult();
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        pipeline.OldestPendingAge.ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public async Task StopAsync_StreamHangs_NoTimeToDrain_EverythingPendingCountsAsDroppedOnce()
    {
        var stream = ScriptedStream.Hung();
        await using PipelineHarness harness = Harness(stream, o => o.ShutdownTimeout = TimeSpan.Zero);
        DeliveryPipeline pipeline = harness.Pipeline;
        for (int i = 0; i < 5; i++)
        {
            harness.Publish(ImmuneSeverity.Warning);
        }

        await stream.WhenCalled(1);
        await pipeline.StopAsync().WaitAsync(Events.HangGuard);

        ImmuneDeliveryStats stats = pipeline.GetStats();
        (stats.DroppedShutdown, stats.Pending, stats.Delivered).ShouldBe((5L, 0L, 0L));
        stats.ShouldBeBalanced();
        await pipeline.Loop.WaitAsync(Events.HangGuard); // the loop ended too
        await pipeline.StopAsync().WaitAsync(Events.HangGuard); // and a second stop changes nothing
        pipeline.GetStats().DroppedShutdown.ShouldBe(5);
    }
}
