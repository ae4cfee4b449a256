using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// <c>GetHealthSummary</c> on an idle service; while delivery runs at full speed (a transport that keeps the loop busy,
/// fed by a light trickle of events); and while a publisher floods the service (recording contends for the store, and
/// on 2 cores the three busy threads contend for the CPU); and while a publisher floods a service with a durable spool
/// (default sync interval), whose disk work must not hold the lock summaries take.
/// </summary>
[MemoryDiagnoser]
public class SummaryUnderLoadBenchmarks
{
    private static readonly NewImmuneEvent Event = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "load");
    private readonly CancellationTokenSource _stop = new();
    private ImmuneService _service = null!;
    private Task _load = Task.CompletedTask;
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "immune-summary-bench", Guid.NewGuid().ToString("N"));

    [Params(1_000, 1_000_000)]
    public int Retained { get; set; }

    [Params("idle", "delivering", "flooded", "flooded-spooled")]
    public string Load { get; set; } = "idle";

    [GlobalSetup]
    public async Task Setup()
    {
        IBatchEventStream stream = Load == "delivering" ? new BusyTransport() : new NoopBatchStream();
        var options = new ImmuneOptions { RetentionCapacity = Retained, QueueCapacity = 100_000 };
        if (Load == "flooded-spooled")
        {
            options.SpoolDirectory = _spool;
            options.SpoolCapacityBytes = 4L << 30;
        }

        _service = new ImmuneService(stream, options);
        for (int i = 0; i < Retained; i++)
        {
            await _service.PublishAsync(Event);
        }

        _load = Load switch
        {
            "delivering" => Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    for (int i = 0; i < 20; i++) await _service.PublishAsync(Event); // a trickle: the transport is what keeps the loop busy
                    await Task.Delay(1);
                }
            }),
            "flooded" or "flooded-spooled" => Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested) await _service.PublishAsync(Event);
            }),
            _ => Task.CompletedTask,
        };
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _stop.CancelAsync();
        await _load;
        await _service.DisposeAsync();
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    [Benchmark(Description = "GetHealthSummary(last 5 min)")]
    public ImmuneHealthSummary Summary() => _service.GetHealthSummary(TimeSpan.FromMinutes(5));

    /// <summary>A transport that takes 1 ms of CPU per call, as serialization and a network write would.</summary>
    private sealed class BusyTransport : IBatchEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => Spin();

        public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default) => Spin();

        private static ValueTask Spin()
        {
            long until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 1000);
            while (Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(10);
            }

            return ValueTask.CompletedTask;
        }
    }
}
