using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// The caller's cost with <see cref="ImmuneOptions.FoldWindow"/> on, beside off, in one run: distinct events (a cycle
/// of 2^20 messages, so none repeats while it is retained) and a storm of one identical event.
/// </summary>
[MemoryDiagnoser]
public class FoldingBenchmarks
{
    private const int Cycle = 1 << 20;
    private static readonly NewImmuneEvent Storm = new(ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "database refused the connection") { Module = "orders-db" };
    private NewImmuneEvent[] _distinct = null!;
    private int _next;
    private ImmuneService _off = null!;
    private ImmuneService _on = null!;
    private ImmuneService _recordOff = null!;
    private ImmuneService _recordOn = null!;

    [GlobalSetup]
    public void Setup()
    {
        _distinct = [.. Enumerable.Range(0, Cycle).Select(i => new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"5xx rate above 2% #{i}") { Module = "api" })];
        _off = new ImmuneService(new NoopStream());
        _on = new ImmuneService(new NoopStream(), new ImmuneOptions { FoldWindow = TimeSpan.FromSeconds(10) });
        _recordOff = new ImmuneService();
        _recordOn = new ImmuneService(options: new ImmuneOptions { FoldWindow = TimeSpan.FromSeconds(10) });
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _off.DisposeAsync();
        await _on.DisposeAsync();
        await _recordOff.DisposeAsync();
        await _recordOn.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "distinct events, FoldWindow off")]
    public ValueTask<long> DistinctOff() => _off.PublishAsync(_distinct[_next++ & (Cycle - 1)]);

    [Benchmark(Description = "distinct events, FoldWindow 10 s")]
    public ValueTask<long> DistinctOn() => _on.PublishAsync(_distinct[_next++ & (Cycle - 1)]);

    [Benchmark(Description = "distinct events, no stream (recording only), FoldWindow off")]
    public ValueTask<long> RecordDistinctOff() => _recordOff.PublishAsync(_distinct[_next++ & (Cycle - 1)]);

    [Benchmark(Description = "distinct events, no stream (recording only), FoldWindow 10 s")]
    public ValueTask<long> RecordDistinctOn() => _recordOn.PublishAsync(_distinct[_next++ & (Cycle - 1)]);

    [Benchmark(Description = "storm of one event, FoldWindow off")]
    public ValueTask<long> StormOff() => _off.PublishAsync(Storm);

    [Benchmark(Description = "storm of one event, FoldWindow 10 s")]
    public ValueTask<long> StormOn() => _on.PublishAsync(Storm);
}
