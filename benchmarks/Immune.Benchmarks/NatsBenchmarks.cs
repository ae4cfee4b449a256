using BenchmarkDotNet.Attributes;
using Immune.Nats;
using Immune.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Immune.Benchmarks;

/// <summary>
/// End to end into a real local nats-server with JetStream (started here on a free 127.0.0.1 port, file storage): the
/// client's own ceiling with every JetStream publish in flight at once (baseline), serial awaited publishes, and Immune
/// delivering through the sample transport in batches. Every message carries its <c>Nats-Msg-Id</c>. Per envelope.
/// </summary>
[MemoryDiagnoser]
public class NatsBenchmarks
{
    private const int Envelopes = 20_000;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { Module = "api" };

    private NatsServer _server = null!;
    private NatsConnection _connection = null!;
    private NatsJSContext _js = null!;
    private NatsJetStreamOptions _options = null!;
    private byte[] _body = null!;
    private long _next;

    /// <summary>Immune's batch size (the raw rows ignore it).</summary>
    [Params(256, 1024)]
    public int MaxBatchSize { get; set; }

    [GlobalSetup]
    public async Task StartNats()
    {
        _server = await NatsServer.StartAsync();
        _connection = new NatsConnection(NatsOpts.Default with { Url = _server.Url });
        await _connection.ConnectAsync();
        _js = new NatsJSContext(_connection);
        _options = new NatsJetStreamOptions(); // the producers' trim keeps the stream to its cap between iterations
        await new NatsJetStreamEventStream(_connection, _options).EnsureStreamAsync();

        var stream = new InMemoryEventStream();
        await using (var service = new ImmuneService(stream))
        {
            await service.PublishAsync(Info);
            await service.FlushAsync();
        }

        _body = ImmuneJson.SerializeToUtf8Bytes(stream.Envelopes[0]);
    }

    [GlobalCleanup]
    public async Task StopNats()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Envelopes, Description = "ceiling: every JetStream publish in flight at once")]
    public async Task PipelinedPublish()
    {
        var acks = new Task[Envelopes];
        for (int i = 0; i < Envelopes; i++)
        {
            acks[i] = Publish().AsTask();
        }

        await Task.WhenAll(acks);
    }

    [Benchmark(OperationsPerInvoke = Envelopes, Description = "serial awaited JetStream publish")]
    public async Task SerialPublish()
    {
        for (int i = 0; i < Envelopes; i++)
        {
            (await Publish()).EnsureSuccess();
        }
    }

    [Benchmark(OperationsPerInvoke = Envelopes, Description = "Immune, batch adapter")]
    public async Task ImmuneBatched()
    {
        await using var service = new ImmuneService(new NatsJetStreamEventStream(_connection, _options), new ImmuneOptions { QueueCapacity = Envelopes, MaxBatchSize = MaxBatchSize });
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

    private ValueTask<NATS.Client.JetStream.Models.PubAckResponse> Publish()
        => _js.PublishAsync(_options.SubjectOf(ImmuneEventTypes.EventPublished), _body, NatsRawSerializer<byte[]>.Default,
            new NatsJSPubOpts { MsgId = $"bench-{Interlocked.Increment(ref _next)}" });
}
