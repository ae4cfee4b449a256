using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Delivery;

/// <summary>The pipeline against hostile collaborators: loggers, exceptions, streams that block, and shutdown races.</summary>
public sealed class DeliveryHardeningTests
{
    private readonly ObservableTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task DeliveryLoop_LoggerThrowsOnEveryCall_KeepsDeliveringAndDisposesCleanly()
    {
        var logger = new ThrowingLogger<ImmuneService>();
        var stream = new ScriptedStream(call => call.Number % 2 == 0 ? throw new InvalidOperationException("down") : ValueTask.CompletedTask);
        var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = 3, DeliveryAttempts = 1, DeliveryLogInterval = TimeSpan.Zero }, logger, _time);

        for (int i = 0; i < 40; i++)
        {
            await service.PublishAsync(Events.Info($"e{i}")); // sheds, and logs the drops on this very call
        }

        await service.Flushed();
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        await service.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);

        stats.ShouldBeBalanced();
        stats.Pending.ShouldBe(0);
        stats.Delivered.ShouldBeGreaterThan(0);
        stats.Failed.ShouldBeGreaterThan(0);
        stats.DroppedQueueFull.ShouldBeGreaterThan(0);
        logger.Calls.ShouldBeGreaterThan(3); // failures, drops and the stop summary were all tried
        service.Parts.DeliveryLoop.IsCompletedSuccessfully.ShouldBeTrue();
        Should.NotThrow(() => new ImmuneService(null, null, logger, _time).Dispose()); // "no stream" is logged at construction
    }

    [Theory]
    [InlineData(nameof(Exception.Message))]
    [InlineData(nameof(Exception.StackTrace))]
    [InlineData(nameof(Exception.ToString))]
    public async Task DeliveryLoop_ExceptionThatThrowsWhileFormatted_CountsFailureAndLivesOn(string poisonedPart)
    {
        var logger = new FormattingLogger<ImmuneService>();
        var stream = new ScriptedStream(call => call.Envelope.Payload.Message == "poison" ? throw new PoisonedException(poisonedPart) : ValueTask.CompletedTask);
        var service = new ImmuneService(stream, new ImmuneOptions { DeliveryAttempts = 2, RetryDelay = TimeSpan.Zero, DeliveryLogInterval = TimeSpan.Zero }, logger, _time);

        await service.PublishAsync(Events.Info("poison"));
        await service.PublishAsync(Events.Info("fine"));
        await service.Flushed();
        await service.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.FailedStreamError, stats.Delivered, stats.Pending).ShouldBe((1L, 1L, 0L));
        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["fine"]);
    }

    [Fact]
    public async Task PublishAsync_InlineWithStreamThatBlocksSynchronously_ReturnsAtThePublishTimeoutAndTheLoopGoesOn()
    {
        using var blocked = new ManualResetEventSlim();
        var stream = new ScriptedStream(call =>
        {
            if (call.Number == 1)
            {
                blocked.Wait(Events.HangGuard); // blocks inside PublishAsync, before returning any task
            }

            return ValueTask.CompletedTask;
        });
        await using var service = new ImmuneService(
            stream, new ImmuneOptions { Delivery = ImmuneDelivery.Inline, DeliveryAttempts = 1, PublishTimeout = TimeSpan.FromSeconds(2), ShutdownTimeout = TimeSpan.Zero }, null, _time);

        ValueTask<long> first = service.PublishAsync(Events.Info("blocks"));
        await stream.WhenCalled(1);
        first.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(2));
        (await first.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);

        long second = await service.PublishAsync(Events.Info("flows")).AsTask().WaitAsync(Events.HangGuard); // the first call still blocks
        blocked.Set();
        await service.Flushed();

        second.ShouldBe(2);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.FailedTimeout, stats.Delivered, stats.Pending).ShouldBe((1L, 1L, 0L));
        stream.CallCount.ShouldBe(2);
    }

    [Fact]
    public async Task DisposeAsync_GivesUpWhileTheLoopIsReporting_MetricsCountEveryEnvelopeOnceAsTheStatsDo()
    {
        // Shutdown gives up at whatever point the loop happens to be; across many runs, every interleaving of the
        // loop's claim and the disposal's abandonment is tried. Each envelope must be counted once, in both.
        for (int run = 0; run < 150; run++)
        {
            using var meters = new TestMeterFactory();
            var counts = new ConcurrentDictionary<string, long>();
            using var listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (ReferenceEquals(instrument.Meter.Scope, meters)) l.EnableMeasurementEvents(instrument);
                },
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counts.AddOrUpdate(instrument.Name, value, (_, v) => v + value));
            listener.Start();
            var stream = new ScriptedStream(async call => await Task.Yield());
            var service = new ImmuneService(
                stream, new ImmuneOptions { ShutdownTimeout = TimeSpan.Zero, MaxBatchSize = 1 + (run % 8) }, null, TimeProvider.System, meters);

            for (int i = 0; i < 20; i++)
            {
                await service.PublishAsync(Events.Info());
            }

            await service.DisposeAsync();
            await service.Parts.DeliveryLoop.WaitAsync(Events.HangGuard); // a claim reported late must land before counting

            ImmuneDeliveryStats stats = service.GetDeliveryStats();
            stats.ShouldBeBalanced();
            stats.Pending.ShouldBe(0);
            long Count(string name) => counts.GetValueOrDefault(name);
            (Count("immune.envelopes.delivered"), Count("immune.envelopes.failed"), Count("immune.envelopes.dropped"))
                .ShouldBe((stats.Delivered, stats.Failed, stats.Dropped), $"run {run}: {stats}");
        }
    }

    [Fact]
    public async Task DeliveryLoop_ServiceBuiltInsideARequest_DoesNotCarryItsContextToLaterDeliveries()
    {
        var seen = new ConcurrentQueue<(string? Activity, string? Local)>();
        var local = new AsyncLocal<string>();
        var stream = new ScriptedStream(call =>
        {
            seen.Enqueue((Activity.Current?.OperationName, local.Value));
            return ValueTask.CompletedTask;
        });

        ImmuneService service;
        using (var request = new Activity("first-request").Start())
        {
            local.Value = "first-request-state";
            service = new ImmuneService(stream, null, null, _time);
            local.Value = null!;
        }

        await using (service)
        {
            await service.PublishAsync(Events.Info("later, outside any request"));
            using (new Activity("second-request").Start())
            {
                await service.PublishAsync(Events.Info("inside another request"));
            }

            await service.Flushed();
        }

        seen.ShouldBe([(null, null), (null, null)]);
    }

    [Fact]
    public async Task PublishAsync_QueueFull_DropLogNamesWhatExistedAndInventsNoEnvelopeId()
    {
        var logger = new FakeLogger<ImmuneService>();
        ScriptedStream stream = ScriptedStream.Hung();
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = 1, ShutdownTimeout = TimeSpan.Zero, DeliveryLogInterval = TimeSpan.Zero }, logger, _time);

        await service.PublishAsync(Events.Info("in flight"));
        await stream.WhenCalled(1);
        await service.PublishAsync(Events.Info("waits"));
        await service.PublishAsync(Events.Info("sheds the one waiting"));

        FakeLogRecord drop = logger.WithName("EnvelopeDropped").ShouldHaveSingleItem();
        drop.Message.ShouldBe("Envelope sequence 2 (immune.event_published) of immune event 2 was dropped: queue_full. 0 other drop(s) since the last report.");
        drop.StructuredState!.ShouldNotContain(p => p.Key == "EnvelopeId");
    }

    [Fact]
    public async Task DeliveryLoop_PlainStreamBlocksSynchronouslyMidRun_TheRunIsCutThereAndTheRestIsDelivered()
    {
        var gate = new TaskCompletionSource();
        using var blocked = new ManualResetEventSlim();
        var stream = new ScriptedStream(call =>
        {
            switch (call.Envelope.Payload.Message)
            {
                case "gate": return new ValueTask(gate.Task);
                case "c": blocked.Wait(Events.HangGuard); break; // inside PublishAsync, on the run's thread
            }

            return ValueTask.CompletedTask;
        });
        await using var service = new ImmuneService(
            stream, new ImmuneOptions { DeliveryAttempts = 1, PublishTimeout = TimeSpan.FromSeconds(2), ShutdownTimeout = TimeSpan.Zero }, null, _time);

        await service.PublishAsync(Events.Info("gate"));
        await stream.WhenCalled(1);
        foreach (string message in new[] { "a", "b", "c", "d", "e" })
        {
            await service.PublishAsync(Events.Info(message)); // one batch, one run: a, b, then c blocks
        }

        gate.SetResult();
        await stream.WhenCalled(4);
        Task flushed = service.FlushAsync();
        _time.Advance(TimeSpan.FromSeconds(2));
        await flushed.WaitAsync(Events.HangGuard);
        blocked.Set();

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.FailedTimeout, stats.Pending).ShouldBe((5L, 1L, 0L));
        stream.Accepted.Select(e => e.Payload.Message).Take(5).ShouldBe(["gate", "a", "b", "d", "e"]);
    }
}
