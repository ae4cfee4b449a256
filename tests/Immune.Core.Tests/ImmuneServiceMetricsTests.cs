using System.Diagnostics.Metrics;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Immune.Tests;

public sealed class ImmuneServiceMetricsTests : IDisposable
{
    private static readonly string[] Counters =
        ["immune.events.recorded", "immune.envelopes.queued", "immune.envelopes.delivered", "immune.envelopes.failed", "immune.envelopes.dropped", "immune.envelopes.replayed", "immune.spool.damaged"];

    private readonly TestMeterFactory _meters = new();
    private readonly Dictionary<string, MetricCollector<long>> _counters;
    private readonly MetricCollector<double> _duration;
    private readonly MetricCollector<int> _queueLength;

    public ImmuneServiceMetricsTests()
    {
        // Collectors of the instruments of the meter this test's factory makes, listening before the service exists.
        _counters = Counters.ToDictionary(name => name, name => new MetricCollector<long>(_meters, "Immune", name));
        _duration = new MetricCollector<double>(_meters, "Immune", "immune.envelope.delivery.duration");
        _queueLength = new MetricCollector<int>(_meters, "Immune", "immune.queue.length");
    }

    private double Sum(string instrument, string? tag = null, object? value = null)
        => _counters[instrument].GetMeasurementSnapshot().Where(m => tag is null || Equals(m.Tags.GetValueOrDefault(tag), value)).Sum(m => m.Value);

    public void Dispose()
    {
        foreach (MetricCollector<long> collector in _counters.Values) collector.Dispose();
        _duration.Dispose();
        _queueLength.Dispose();
        _meters.Dispose();
    }

    private ServiceProvider Build(IEventStream stream, Action<ImmuneOptions> configure, IMeterFactory? meters = null) => new ServiceCollection()
        .AddSingleton(meters ?? _meters)
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
        _queueLength.RecordObservableInstruments();

        _queueLength.GetMeasurementSnapshot().ShouldNotBeEmpty();
        Sum("immune.events.recorded").ShouldBe(3);
        Sum("immune.events.recorded", "severity", "critical").ShouldBe(1);
        Sum("immune.events.recorded", "type", "error_spike").ShouldBe(1);
        Sum("immune.envelopes.queued").ShouldBe(4);
        Sum("immune.envelopes.delivered").ShouldBe(3);
        Sum("immune.envelopes.failed", "reason", "stream_error").ShouldBe(1);
        _duration.GetMeasurementSnapshot().Count.ShouldBe(2); // one per delivery, not per envelope
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

            using var secondMeters = new TestMeterFactory(); // the next service, as the next process: a meter of its own
            using var replayed = new MetricCollector<long>(secondMeters, "Immune", "immune.envelopes.replayed");
            await using ServiceProvider second = Build(new InMemoryEventStream(), o => o.SpoolDirectory = directory, secondMeters);
            ImmuneService replaying = second.GetRequiredService<ImmuneService>();
            await replaying.Flushed();

            Sum("immune.envelopes.dropped", "reason", "spool_full").ShouldBe(3);
            left.DroppedSpoolFull.ShouldBe(3);
            replayed.GetMeasurementSnapshot().Sum(m => m.Value).ShouldBe(left.Queued - 3);
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

        _queueLength.RecordObservableInstruments();
        _queueLength.LastMeasurement!.Value.ShouldBe(2); // the full queue; the hung one is in flight
        await provider.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);
        await service.Parts.DeliveryLoop.WaitAsync(Events.HangGuard); // let a late report of the loop land before counting

        Sum("immune.envelopes.dropped", "reason", "queue_full").ShouldBe(3);
        Sum("immune.envelopes.dropped", "reason", "shutdown").ShouldBe(3);
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 6, Dropped = 6, DroppedQueueFull = 3, DroppedShutdown = 3 });
    }
}
