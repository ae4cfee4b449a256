using BenchmarkDotNet.Attributes;
using Immune.Redis;
using Immune.Testing;
using StackExchange.Redis;

namespace Immune.Benchmarks;

/// <summary>
/// How fast a backlog leaves once the broker is back: 10,000 envelopes wait in the queue behind a call the broker holds
/// (an outage that ends), then the call is released and the backlog drains into a real local redis-server through the
/// sample batch transport. Measured from the release to the last envelope delivered, against the connection's own
/// pipelined-XADD ceiling for the same number of entries in the same run. Reported per envelope.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)] // every drain needs a backlog built before it
public class RedisDrainBenchmarks
{
    private const int Backlog = 10_000;
    private const string Key = "immune:drain";
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { Module = "api" };

    private RedisServer _server = null!;
    private ConnectionMultiplexer _connection = null!;
    private NameValueEntry[] _entry = null!;
    private ImmuneService? _service;
    private HeldBatchStream? _stream;

    /// <summary>Immune's batch size.</summary>
    [Params(256, 1024)]
    public int MaxBatchSize { get; set; }

    [GlobalSetup]
    public async Task StartRedis() => (_server, _connection, _entry) = await RedisBench.StartAsync(Info);

    [GlobalCleanup]
    public async Task StopRedis()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    [IterationSetup(Target = nameof(Drain))]
    public void BuildBacklog() => BuildBacklogAsync().GetAwaiter().GetResult();

    [IterationCleanup(Target = nameof(Drain))]
    public void StopService() => _service!.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = Backlog, Description = "ceiling: pipelined XADD on the connection")]
    public Task PipelinedXadd() => RedisBench.PipelinedXaddAsync(_connection, Key, _entry, Backlog);

    [Benchmark(OperationsPerInvoke = Backlog, Description = "Immune, a backlog drained after the outage")]
    public Task Drain() => _stream!.DrainAsync(_service!, Backlog + 1);

    private async Task BuildBacklogAsync()
    {
        _stream = new HeldBatchStream(new RedisStreamsEventStream(_connection, new RedisStreamsOptions { StreamKey = Key }));
        _service = new ImmuneService(_stream, new ImmuneOptions { QueueCapacity = Backlog, MaxBatchSize = MaxBatchSize });
        await _service.PublishAsync(Info); // the head: its call is held until the broker "returns"
        await _stream.Held;
        for (int i = 0; i < Backlog; i++)
        {
            await _service.PublishAsync(Info);
        }
    }
}
