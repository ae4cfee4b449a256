using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>The cost to the caller of recording one event, beside the floor and the peers, in one run.</summary>
[MemoryDiagnoser]
public class PublishBenchmarks
{
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };
    private static readonly NewImmuneEvent Critical = new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "token reused") { AgentId = "gw-1", Module = "auth" };

    private ChannelFloor _floor = null!;
    private OpenTelemetryPeer _peer = null!;
    private NaivePort _naive = null!;
    private ImmuneService _background = null!;
    private ImmuneService _inline = null!;
    private ImmuneService _recordOnly = null!;

    [GlobalSetup]
    public void Setup()
    {
        _floor = new ChannelFloor();
        _peer = new OpenTelemetryPeer();
        _naive = new NaivePort(static async _ => await Task.Yield());
        _background = new ImmuneService(new NoopStream());
        _inline = new ImmuneService(new NoopStream(), new ImmuneOptions { Delivery = ImmuneDelivery.Inline });
        _recordOnly = new ImmuneService();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _floor.DisposeAsync();
        _peer.Dispose();
        await _background.DisposeAsync();
        await _inline.DisposeAsync();
        await _recordOnly.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "floor: Channel.TryWrite")]
    public bool ChannelFloor() => _floor.Write(Info);

    [Benchmark(Description = "peer: OpenTelemetry [LoggerMessage] + batch processor")]
    public void OpenTelemetry() => _peer.Record(Info);

    [Benchmark(Description = "naive port: list + dictionaries + awaited publish")]
    public Task<long> NaivePort() => _naive.PublishAsync(Info);

    [Benchmark(Description = "Immune PublishAsync background INFO")]
    public ValueTask<long> PublishInfo() => _background.PublishAsync(Info);

    [Benchmark(Description = "Immune PublishAsync, no stream (recording only)")]
    public ValueTask<long> PublishRecordOnly() => _recordOnly.PublishAsync(Info);

    [Benchmark(Description = "Immune PublishAsync background CRITICAL")]
    public ValueTask<long> PublishCritical() => _background.PublishAsync(Critical);

    [Benchmark(Description = "Immune PublishAsync inline INFO")]
    public async Task<long> PublishInline() => await _inline.PublishAsync(Info);
}
