using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// <c>GetHealthSummary</c> while a publisher floods the same service and its delivery loop runs at full speed into a
/// no-op batch stream, beside the same service idle: delivery has its own lock, so summaries should not slow.
/// </summary>
[MemoryDiagnoser]
public class SummaryUnderLoadBenchmarks
{
    private static readonly NewImmuneEvent Flood = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "flood");
    private readonly CancellationTokenSource _stop = new();
    private ImmuneService _service = null!;
    private Task _flooding = Task.CompletedTask;

    [Params(1_000, 1_000_000)]
    public int Retained { get; set; }

    [Params(false, true)]
    public bool Flooded { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _service = new ImmuneService(new NoopBatchStream(), new ImmuneOptions { RetentionCapacity = Retained });
        for (int i = 0; i < Retained; i++)
        {
            await _service.PublishAsync(Flood);
        }

        await _service.FlushAsync();
        if (Flooded)
        {
            _flooding = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    await _service.PublishAsync(Flood);
                }
            });
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _stop.CancelAsync();
        await _flooding;
        await _service.DisposeAsync();
    }

    [Benchmark(Description = "GetHealthSummary(last 5 min)")]
    public ImmuneHealthSummary Summary() => _service.GetHealthSummary(TimeSpan.FromMinutes(5));
}
