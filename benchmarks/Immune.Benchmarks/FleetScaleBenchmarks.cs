using BenchmarkDotNet.Attributes;
using Immune.Testing;

namespace Immune.Benchmarks;

/// <summary>
/// What the fleet host's endpoints cost at 100 and at 10,000 sources (10 events each over the last day; at both sizes
/// the same 100 sources with a WARNING open, and one CRITICAL): the bounded calls they make now should cost the same at
/// both sizes; beside
/// them, the unbounded summary the health JSON used to list and the rate as it used to be computed (differences of one
/// summary per minute).
/// </summary>
[MemoryDiagnoser]
public class FleetScaleBenchmarks
{
    private ImmuneFleetView _fleet = null!;

    [Params(100, 10_000)]
    public int Sources { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var clock = new SteppingClock();
        DateTimeOffset start = clock.GetUtcNow();
        clock.Step(TimeSpan.FromDays(1));
        _fleet = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 10 * Sources + 1 }, clock);
        for (int s = 0; s < Sources; s++)
        {
            for (int e = 0; e < 10; e++)
            {
                ImmuneSeverity severity = e == 0 && s < 100 ? ImmuneSeverity.Warning : ImmuneSeverity.Info;
                _fleet.Apply(Envelopes.Published($"service-{s}", "i-1", e, severity, start.AddMinutes((s * 10 + e) % 1440)));
            }
        }

        foreach (EventEnvelope envelope in Envelopes.Of("zz-last", "i-1", 1, ImmuneSeverity.Critical, clock.GetUtcNow()))
        {
            _fleet.Apply(envelope);
        }
    }

    [Benchmark(Description = "health JSON: summary of 60 min, the 50 worst sources")]
    public ImmuneFleetSummary Health() => _fleet.GetHealthSummary(TimeSpan.FromMinutes(60), 50);

    [Benchmark(Description = "rate JSON: 1,440 minutes")]
    public IReadOnlyList<ImmuneFleetMinute> Rate() => _fleet.GetRecordedPerMinute(1440);

    [Benchmark(Description = "incidents JSON: 100")]
    public IReadOnlyList<ImmuneFleetIncident> Incidents() => _fleet.GetIncidents(100);

    [Benchmark(Description = "before: summary listing every source")]
    public ImmuneFleetSummary HealthOfEverySource() => _fleet.GetHealthSummary(TimeSpan.FromMinutes(60));

    [Benchmark(Description = "before: rate of 1,440 minutes as differences of summaries")]
    public int RateFromSummaries()
    {
        int previous = 0, total = 0;
        for (int minutes = 1; minutes <= 1440; minutes++)
        {
            int count = _fleet.GetHealthSummary(TimeSpan.FromMinutes(minutes)).ActiveIssues;
            total += count - previous;
            previous = count;
        }

        return total;
    }
}
