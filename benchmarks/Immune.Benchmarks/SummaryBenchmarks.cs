using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>Queries over 1,000 to 1,000,000 retained events: the summary should cost O(log n).</summary>
[MemoryDiagnoser]
public class SummaryBenchmarks
{
    private ImmuneService _service = null!;
    private SteppingClock _clock = null!;

    [Params(1_000, 100_000, 1_000_000)]
    public int Retained { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _clock = new SteppingClock();
        _service = new ImmuneService(options: new ImmuneOptions { RetentionCapacity = Retained }, timeProvider: _clock);
        ImmuneSeverity[] severities = [ImmuneSeverity.Info, ImmuneSeverity.Info, ImmuneSeverity.Warning, ImmuneSeverity.Critical];
        for (int i = 0; i < Retained; i++)
        {
            await _service.PublishAsync(new NewImmuneEvent(severities[i % 4], (ImmuneEventType)(i % 3), "event"));
            _clock.Step(TimeSpan.FromMilliseconds(1));
        }
    }

    [GlobalCleanup]
    public Task Cleanup() => _service.DisposeAsync().AsTask();

    [Benchmark(Description = "GetHealthSummary(all retained)")]
    public ImmuneHealthSummary SummaryOfAll() => _service.GetHealthSummary(TimeSpan.FromDays(365));

    [Benchmark(Description = "GetHealthSummary(last 100 ms)")]
    public ImmuneHealthSummary SummaryOfRecent() => _service.GetHealthSummary(TimeSpan.FromMilliseconds(100));

    [Benchmark(Description = "GetRecentEvents(last 100 ms)")]
    public IReadOnlyList<ImmuneEvent> RecentEvents() => _service.GetRecentEvents(TimeSpan.FromMilliseconds(100));
}
