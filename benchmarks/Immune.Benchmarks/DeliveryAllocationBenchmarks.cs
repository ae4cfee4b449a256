using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// What one delivered envelope costs end to end, allocations first: the publish, the envelope the delivery loop builds
/// and its delivery to a stream that accepts at once. <see cref="Burst"/> 1 is a quiet service (each envelope delivered
/// before the next publish: a batch of one, the loop idle in between); 256 a busy one. Immune waits for delivery by
/// spinning on the stream's count, which allocates nothing; the OpenTelemetry peer, with its export batch size set to
/// the burst, the same way on its exporter's count.
/// </summary>
[MemoryDiagnoser]
public class DeliveryAllocationBenchmarks
{
    private const int Events = 2_560;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };

    private CountingStream _stream = null!;
    private ImmuneService _service = null!;
    private OpenTelemetryPeer _peer = null!;

    /// <summary>Events published before waiting for their delivery.</summary>
    [Params(1, 256)]
    public int Burst { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _stream = new CountingStream();
        _service = new ImmuneService(_stream, new ImmuneOptions { RetentionCapacity = 10_000 });
        _peer = new OpenTelemetryPeer(exportBatchSize: Burst); // it exports each burst on its own, as Immune's loop does
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _service.DisposeAsync();
        _peer.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "peer: OpenTelemetry [LoggerMessage] + batch processor, exported")]
    public void OpenTelemetry()
    {
        for (int i = 0; i < Events; i += Burst)
        {
            for (int j = 0; j < Burst; j++)
            {
                _peer.Record(Info);
            }

            _peer.WaitExported();
        }
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "Immune PublishAsync background INFO, delivered")]
    public void Immune()
    {
        long delivered = _stream.Accepted;
        for (int i = 0; i < Events; i += Burst)
        {
            for (int j = 0; j < Burst; j++)
            {
                _ = _service.PublishAsync(Info).Result; // background mode without a spool: always complete at once
            }

            _stream.WaitFor(delivered += Burst);
        }
    }
}
