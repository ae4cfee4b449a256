using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// <see cref="ImmuneFleetView"/> over 1,000 to 1,000,000 counted events from 3 sources × 10 instances, applied out of
/// time order: a summary should cost O(log n) per source, like the service's own, and an incident list O(log n + max).
/// </summary>
[MemoryDiagnoser]
public class FleetBenchmarks
{
    private static readonly string[] Sources = ["checkout", "payments", "search"];
    private ImmuneFleetView _fleet = null!;
    private SteppingClock _clock = null!;
    private long _next;

    [Params(1_000, 100_000, 1_000_000)]
    public int Retained { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _clock = new SteppingClock();
        _fleet = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = Retained }, _clock);
        var random = new Random(7);
        DateTimeOffset start = _clock.GetUtcNow();
        foreach (int i in Enumerable.Range(0, Retained).OrderBy(_ => random.Next()))
        {
            _fleet.Apply(Published(i, start.AddMilliseconds(i)));
        }

        _clock.Step(TimeSpan.FromMilliseconds(Retained));
        _next = Retained;
    }

    [Benchmark(Description = "Fleet GetHealthSummary(all counted)")]
    public ImmuneFleetSummary SummaryOfAll() => _fleet.GetHealthSummary(TimeSpan.FromDays(365));

    [Benchmark(Description = "Fleet GetHealthSummary(last 100 ms)")]
    public ImmuneFleetSummary SummaryOfRecent() => _fleet.GetHealthSummary(TimeSpan.FromMilliseconds(100));

    [Benchmark(Description = "Fleet GetIncidents(max 100)")]
    public IReadOnlyList<ImmuneFleetIncident> Incidents() => _fleet.GetIncidents(max: 100);

    [Benchmark(Description = "Fleet Apply(new event, full: the earliest leaves)")]
    public bool ApplyNew()
    {
        long i = _next++;
        return _fleet.Apply(Published(i, _clock.GetUtcNow().AddTicks(i)));
    }

    private static EventEnvelope Published(long i, DateTimeOffset at)
    {
        var severity = (ImmuneSeverity)(i / 3 % 3);
        return new EventEnvelope(
            $"evt_{i}", ImmuneEventTypes.EventPublished, Sources[i % 3], null, at,
            new ImmuneEventPublishedPayload(i, severity, (ImmuneEventType)(i / 9 % 3), "event", at),
            new EventMeta("c") { InstanceId = $"instance-{i % 10}" });
    }
}
