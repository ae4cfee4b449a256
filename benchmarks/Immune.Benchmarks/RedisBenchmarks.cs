using BenchmarkDotNet.Attributes;
using Immune.Redis;
using Immune.Testing;
using StackExchange.Redis;

namespace Immune.Benchmarks;

/// <summary>
/// End to end into a real local redis-server (started here on a free 127.0.0.1 port, no persistence): the connection's
/// own ceiling with pipelined XADDs (baseline), serial awaited XADDs, and Immune delivering through the sample transport
/// one envelope per call and in batches. Reported per envelope.
/// </summary>
[MemoryDiagnoser]
public class RedisBenchmarks
{
    private const int Envelopes = 20_000;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { Module = "api" };

    private RedisServer _server = null!;
    private ConnectionMultiplexer _connection = null!;
    private NameValueEntry[] _entry = null!;
    private const string Key = "immune:bench";

    /// <summary>Immune's batch size (the raw XADD rows ignore it).</summary>
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

    [Benchmark(Baseline = true, OperationsPerInvoke = Envelopes, Description = "ceiling: pipelined XADD on the connection")]
    public Task PipelinedXadd() => RedisBench.PipelinedXaddAsync(_connection, Key, _entry, Envelopes);

    [Benchmark(OperationsPerInvoke = Envelopes, Description = "serial awaited XADD")]
    public async Task SerialXadd()
    {
        IDatabase db = _connection.GetDatabase();
        for (int i = 0; i < Envelopes; i++)
        {
            await db.StreamAddAsync(Key, _entry, maxLength: 10_000, useApproximateMaxLength: true);
        }
    }

    [Benchmark(OperationsPerInvoke = Envelopes, Description = "Immune, one-envelope adapter")]
    public Task ImmuneOneByOne() => PublishAllAsync(new OneEnvelopeAdapter(Transport()));

    [Benchmark(OperationsPerInvoke = Envelopes, Description = "Immune, batch adapter")]
    public Task ImmuneBatched() => PublishAllAsync(Transport());

    private RedisStreamsEventStream Transport() => new(_connection, new RedisStreamsOptions { StreamKey = Key });

    private async Task PublishAllAsync(IEventStream stream)
    {
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = Envelopes, MaxBatchSize = MaxBatchSize });
        for (int i = 0; i < Envelopes; i++)
        {
            await service.PublishAsync(Info);
        }

        await service.FlushAsync();
        if (service.GetDeliveryStats().Delivered != Envelopes)
        {
            throw new InvalidOperationException("Not every envelope was delivered: " + service.GetDeliveryStats());
        }
    }

    /// <summary>The sample transport seen through the plain interface only: one awaited XADD per envelope, as a first adapter would be.</summary>
    private sealed class OneEnvelopeAdapter(IEventStream inner) : IEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => inner.PublishAsync(envelope, cancellationToken);
    }
}

/// <summary>What the Redis benchmarks share: a redis-server of their own, a connection, and one real envelope as an XADD entry for the ceiling rows.</summary>
internal static class RedisBench
{
    public static async Task<(RedisServer Server, ConnectionMultiplexer Connection, NameValueEntry[] Entry)> StartAsync(NewImmuneEvent sample)
    {
        RedisServer server = await RedisServer.StartAsync();
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(server.ConnectionString));
        var stream = new InMemoryEventStream();
        await using (var service = new ImmuneService(stream))
        {
            await service.PublishAsync(sample);
            await service.FlushAsync();
        }

        EventEnvelope envelope = stream.Envelopes[0];
        return (server, connection, [new("type", envelope.Type), new("id", envelope.Id), new("envelope", ImmuneJson.SerializeToUtf8Bytes(envelope))]);
    }

    /// <summary>The ceiling: <paramref name="count"/> XADDs of one entry, all in flight on the connection at once.</summary>
    public static async Task PipelinedXaddAsync(ConnectionMultiplexer connection, string key, NameValueEntry[] entry, int count)
    {
        IDatabase db = connection.GetDatabase();
        var added = new Task[count];
        for (int i = 0; i < count; i++)
        {
            added[i] = db.StreamAddAsync(key, entry, maxLength: 10_000, useApproximateMaxLength: true);
        }

        await Task.WhenAll(added);
    }
}
