using Immune.Samples.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Samples.Tests;

/// <summary>
/// The NATS JetStream transport on a real <c>nats-server</c>: envelopes in order on their subjects, every envelope once
/// even when a batch is sent again (the server drops a repeated <c>Nats-Msg-Id</c>), and nothing lost when the server
/// is killed and restarted while a service publishes with default options.
/// </summary>
public sealed class NatsTransportTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);
    private readonly NatsJetStreamOptions _options = new() { StreamName = $"IMMUNE_{Guid.NewGuid():N}", SubjectPrefix = $"immune.{Guid.NewGuid():N}" };
    private NatsServer _server = null!;
    private NatsConnection _connection = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync();
        _connection = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Service_PublishesThroughJetStream_EveryEnvelopeOnceInRecordOrderOnItsSubject()
    {
        var stream = new NatsJetStreamEventStream(_connection, _options);
        await stream.EnsureStreamAsync();
        var ids = new List<long>();
        await using (var service = new ImmuneService(stream, new ImmuneOptions { Source = "checkout", MaxBatchSize = 32 }))
        {
            for (int i = 0; i < 300; i++)
            {
                ids.Add(await service.PublishAsync(new NewImmuneEvent(i % 10 == 0 ? ImmuneSeverity.Critical : ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"event {i}")));
            }

            await service.FlushAsync().WaitAsync(HangGuard);
            service.GetDeliveryStats().Delivered.ShouldBe(330);
        }

        List<(string Subject, EventEnvelope Envelope)> read = await ReadAllAsync();
        read.Count.ShouldBe(330);
        read.Select(r => r.Envelope.Id).ShouldBeUnique();
        read.ShouldAllBe(r => r.Subject == _options.SubjectOf(r.Envelope.Type));
        read.Where(r => r.Envelope.Type == ImmuneEventTypes.EventPublished).Select(r => r.Envelope.Payload.EventId).ShouldBe(ids);
        read.Where(r => r.Envelope.Type == ImmuneEventTypes.CriticalEvent).Select(r => r.Envelope.Payload.EventId).ShouldBe(ids.Where(id => id % 10 == 1));
    }

    [Fact]
    public async Task Batch_SentAgainAsARetryWouldOrAfterALostAcknowledgement_StoredOnce()
    {
        var stream = new NatsJetStreamEventStream(_connection, _options);
        await stream.EnsureStreamAsync();
        EventEnvelope[] batch = [.. Enumerable.Range(1, 50).Select(i => Envelope(i))];

        await stream.PublishBatchAsync(batch);
        await stream.PublishBatchAsync(batch);          // the service retrying a batch whose call failed after the server stored it
        await stream.PublishAsync(batch[7]);            // one envelope whose acknowledgement was lost
        await stream.PublishBatchAsync(batch[40..]);    // and part of it again

        (await ReadAllAsync()).Select(r => r.Envelope.Id).ShouldBe(batch.Select(e => e.Id));
    }

    [Fact]
    public async Task EnsureStream_CreatesWithTheDocumentedSettings_AndAcceptsAnExistingStream()
    {
        var stream = new NatsJetStreamEventStream(_connection, _options);
        await stream.EnsureStreamAsync();
        await stream.EnsureStreamAsync(); // a second producer starting: the same settings, no error

        var js = new NatsJSContext(_connection);
        StreamConfig config = (await js.GetStreamAsync(_options.StreamName)).Info.Config;
        config.Subjects.ShouldBe([$"{_options.SubjectPrefix}.>"]);
        config.Storage.ShouldBe(StreamConfigStorage.File);
        config.Retention.ShouldBe(StreamConfigRetention.Limits);
        config.DuplicateWindow.ShouldBe(TimeSpan.FromMinutes(5));
        config.MaxAge.ShouldBe(TimeSpan.FromDays(7));
        config.MaxMsgs.ShouldBe(1_000_000);
    }

    [Fact]
    public async Task ServerKilledAndRestartedWhilePublishing_DefaultOptions_EveryReturnedIdStoredOnceInOrder()
    {
        var stream = new NatsJetStreamEventStream(_connection, _options);
        await stream.EnsureStreamAsync();
        await using var service = new ImmuneService(stream, new ImmuneOptions { Source = "checkout" });
        var published = new List<long>();
        using var stop = new CancellationTokenSource();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task producer = Task.Run(async () =>
        {
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(2));
            int i = 0;
            while (!stop.IsCancellationRequested && await pace.WaitForNextTickAsync())
            {
                long id = await service.PublishAsync(new NewImmuneEvent(i++ % 10 == 0 ? ImmuneSeverity.Critical : ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "steady"));
                lock (published)
                {
                    published.Add(id);
                    if (published.Count == 300) reached.TrySetResult();
                }
            }
        });

        await reached.Task.WaitAsync(HangGuard);
        await _server.StopAsync();
        int before;
        lock (published) before = published.Count;
        await Task.Delay(TimeSpan.FromSeconds(3)); // the outage itself: a span of wall time, not a wait for background work
        await _server.RestartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1)); // and some publishing after it
        await stop.CancelAsync();
        await producer.WaitAsync(HangGuard);
        await service.FlushAsync().WaitAsync(HangGuard);

        int during;
        lock (published) during = published.Count - before;
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        output.WriteLine($"published {published.Count}, {during} during and after the outage; {stats}");
        (stats.Failed, stats.Dropped, stats.Pending).ShouldBe((0L, 0L, 0L), stats.ToString());
        during.ShouldBeGreaterThan(100);

        List<(string Subject, EventEnvelope Envelope)> read = await ReadAllAsync();
        read.Select(r => r.Envelope.Id).ShouldBeUnique(); // retried batches were dropped by their message ids
        long[] stored = [.. read.Where(r => r.Envelope.Type == ImmuneEventTypes.EventPublished).Select(r => r.Envelope.Payload.EventId)];
        published.Except(stored).ShouldBeEmpty("returned but not stored");
        stored.Length.ShouldBe(published.Count);
        output.WriteLine($"out of record order: {string.Join(", ", stored.Where((id, i) => i > 0 && id < stored[i - 1]))}");
    }

    /// <summary>Every message of the stream, in stream order, through an ordered consumer.</summary>
    private async Task<List<(string Subject, EventEnvelope Envelope)>> ReadAllAsync()
    {
        var js = new NatsJSContext(_connection);
        INatsJSStream info = await js.GetStreamAsync(_options.StreamName);
        long total = (long)info.Info.State.Messages;
        var read = new List<(string, EventEnvelope)>();
        if (total == 0)
        {
            return read;
        }

        INatsJSConsumer consumer = await js.CreateOrderedConsumerAsync(_options.StreamName);
        using var guard = new CancellationTokenSource(HangGuard);
        await foreach (NatsJSMsg<byte[]> message in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, cancellationToken: guard.Token))
        {
            read.Add((message.Subject, ImmuneJson.DeserializeEnvelope(message.Data!)));
            if (read.Count == total)
            {
                break;
            }
        }

        return read;
    }

    private static EventEnvelope Envelope(long eventId)
    {
        DateTimeOffset at = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
        return new EventEnvelope($"evt_immune_{eventId}", ImmuneEventTypes.EventPublished, "checkout", null, at,
            new ImmuneEventPublishedPayload(eventId, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", at), new EventMeta("c") { InstanceId = "i1" });
    }
}
