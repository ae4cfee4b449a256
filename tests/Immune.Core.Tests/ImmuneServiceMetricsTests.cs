using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.DependencyInjection;

namespace Immune.Tests;

public sealed class ImmuneServiceMetricsTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public ImmuneServiceMetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, _meters))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => _measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));

    private double Sum(string instrument, string? tag = null, object? value = null)
        => _measurements.Where(m => m.Instrument == instrument && (tag is null || Equals(m.Tags.GetValueOrDefault(tag), value))).Sum(m => m.Value);

    public void Dispose()
    {
        _listener.Dispose();
        _meters.Dispose();
    }

    private ServiceProvider Build(IEventStream stream, Action<ImmuneOptions> configure) => new ServiceCollection()
        .AddSingleton<IMeterFactory>(_meters)
        .AddSingleton(stream)
        .AddImmune(configure)
        .BuildServiceProvider();

    [Fact]
    public async Task Instruments_OnTheImmuneMeterFromTheContainersFactory_CountWhatTheStatsCount()
    {
        var stream = new ScriptedStream(call => call.Envelope.Payload.Message == "fails" ? throw new InvalidOperationException() : ValueTask.CompletedTask);
        await using ServiceProvider provider = Build(stream, o => { o.DeliveryAttempts = 1; o.RetryDelay = TimeSpan.Zero; });
        ImmuneService service = provider.GetRequiredService<ImmuneService>();

        await service.PublishAsync(Events.Critical());
        await service.Flushed(); // one run of two envelopes
        await service.PublishAsync(Events.Info("fails"));
        await service.Flushed();
        await service.PublishAsync(Events.Warning());
        await service.Flushed(); // one run of one
        _listener.RecordObservableInstruments();

        _measurements.ShouldContain(m => m.Instrument == "immune.queue.length");
        Sum("immune.events.recorded").ShouldBe(3);
        Sum("immune.events.recorded", "severity", "critical").ShouldBe(1);
        Sum("immune.events.recorded", "type", "error_spike").ShouldBe(1);
        Sum("immune.envelopes.queued").ShouldBe(4);
        Sum("immune.envelopes.delivered").ShouldBe(3);
        Sum("immune.envelopes.failed", "reason", "stream_error").ShouldBe(1);
        _measurements.Count(m => m.Instrument == "immune.envelope.delivery.duration").ShouldBe(2); // one per delivery, not per envelope
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Queued, stats.Delivered, stats.Failed).ShouldBe((4, 3, 1));
    }

    [Fact]
    public async Task Instruments_SpoolReplayAndSpoolFull_AreCountedLikeTheStats()
    {
        using var temp = new TempDirectory();
        string directory = temp.Path;
        {
            ServiceProvider first = Build(ScriptedStream.Hung(), o => { o.SpoolDirectory = directory; o.ShutdownTimeout = TimeSpan.Zero; o.SpoolCapacityBytes = 1 << 20; });
            ImmuneService leaving = first.GetRequiredService<ImmuneService>();
            for (int i = 0; i < 400 && leaving.GetDeliveryStats().DroppedSpoolFull < 3; i++)
            {
                await leaving.PublishAsync(Events.Info(new string('x', 4000)));
            }

            ImmuneDeliveryStats left = leaving.GetDeliveryStats();
            await first.DisposeAsync();

            await using ServiceProvider second = Build(new InMemoryEventStream(), o => o.SpoolDirectory = directory);
            ImmuneService replaying = second.GetRequiredService<ImmuneService>();
            await replaying.Flushed();

            Sum("immune.envelopes.dropped", "reason", "spool_full").ShouldBe(3);
            left.DroppedSpoolFull.ShouldBe(3);
            Sum("immune.envelopes.replayed").ShouldBe(left.Queued - 3);
            replaying.GetDeliveryStats().Replayed.ShouldBe(left.Queued - 3);
            replaying.GetDeliveryStats().Delivered.ShouldBe(left.Queued - 3);
        }
    }

    [Fact]
    public async Task Instruments_QueueFullAndShutdownDrops_AreCountedWithTheirReason()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Hung();
        ServiceProvider provider = Build(stream, o => { o.QueueCapacity = 2; o.ShutdownTimeout = TimeSpan.Zero; });
        ImmuneService service = provider.GetRequiredService<ImmuneService>();
        await service.PublishAsync(Events.Info());
        await stream.WhenCalled(1);

        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(Events.Info());
        }

        _listener.RecordObservableInstruments();
        _measurements.Last(m => m.Instrument == "immune.queue.length").Value.ShouldBe(2); // the full queue; the hung one is in flight
        await provider.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);
        await service.DeliveryLoop.WaitAsync(Events.HangGuard); // let a late report of the loop land before counting

        Sum("immune.envelopes.dropped", "reason", "queue_full").ShouldBe(3);
        Sum("immune.envelopes.dropped", "reason", "shutdown").ShouldBe(3);
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 6, Dropped = 6, DroppedQueueFull = 3, DroppedShutdown = 3 });
    }
}
