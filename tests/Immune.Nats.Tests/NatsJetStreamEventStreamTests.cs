using Microsoft.Extensions.Time.Testing;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Nats.Tests;

/// <summary>
/// <see cref="NatsJetStreamEventStream"/> on a real nats-server: envelopes in order on their subjects, every envelope once
/// even when a batch is sent again, nothing lost when the server is killed and restarted while a service publishes with
/// default options, and an envelope over the server's max_payload rejected alone.
/// </summary>
public sealed class NatsJetStreamEventStreamTests(Xunit.Abstractions.ITestOutputHelper output) : NatsTest
{
    [Fact]
    public async Task Publish_EveryEnvelopeOnceInRecordOrderOnItsSubject_TheStreamMadeBeforeTheFirst()
    {
        var ids = new List<long>();
        await ProduceAsync("checkout", async service =>
        {
            for (int i = 0; i < 300; i++)
            {
                ids.Add(await service.PublishAsync(i % 10 == 0 ? Critical($"event {i}") : Info($"event {i}")));
            }
        });

        List<(string Subject, EventEnvelope Envelope)> read = await ReadAllAsync();
        read.Count.ShouldBe(330);
        read.Select(r => r.Envelope.Id).ShouldBeUnique();
        read.ShouldAllBe(r => r.Subject == Options(null).SubjectOf(r.Envelope.Type));
        read.Where(r => r.Envelope.Type == ImmuneEventTypes.EventPublished).Select(r => r.Envelope.Payload.EventId).ShouldBe(ids);
    }

    [Fact]
    public async Task Batch_SentAgainAsARetryWouldOrAfterALostAcknowledgement_StoredOnce()
    {
        var stream = new NatsJetStreamEventStream(Connection, Options());
        EventEnvelope[] batch = [.. Enumerable.Range(1, 50).Select(i => Envelope(i))];

        await stream.PublishBatchAsync(batch);
        await stream.PublishBatchAsync(batch);
        await stream.PublishAsync(batch[7]);
        await stream.PublishBatchAsync(batch[40..]);

        (await ReadAllAsync()).Select(r => r.Envelope.Id).ShouldBe(batch.Select(e => e.Id));
    }

    [Fact]
    public async Task EnsureStream_TheDocumentedSettings_DiscardNew_AndAnExistingStreamIsAccepted()
    {
        var stream = new NatsJetStreamEventStream(Connection, Options());
        await stream.EnsureStreamAsync();
        await stream.EnsureStreamAsync();

        StreamConfig config = (await new NatsJSContext(Connection).GetStreamAsync(StreamName)).Info.Config;
        config.Subjects.ShouldBe([$"{Options().SubjectPrefix}.>"]);
        (config.Storage, config.Retention, config.Discard).ShouldBe((StreamConfigStorage.File, StreamConfigRetention.Limits, StreamConfigDiscard.New));
        (config.DuplicateWindow, config.MaxAge, config.MaxBytes, config.MaxMsgs).ShouldBe((TimeSpan.FromMinutes(5), TimeSpan.FromDays(7), 1L << 30, -1L));
    }

    [Fact]
    public async Task Publish_AnEnvelopeOverTheServersMaxPayload_FailsAloneAsRejected_TheRestIsDeliveredAtOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow); // never advanced: no backoff or timeout can pass
        await using var service = new ImmuneService(new NatsJetStreamEventStream(Connection, Options()), timeProvider: time);
        var huge = new Dictionary<string, object?>();
        for (int i = 0; i < 20; i++)
        {
            huge[$"k{i}"] = Enumerable.Range(0, 20).Select(_ => (object?)new string('x', 4096)).ToList(); // 1.6 MB: over the default 1 MB
        }

        await service.PublishAsync(Info("before"));
        await service.PublishAsync(Info("oversized") with { Meta = huge });
        for (int i = 0; i < 20; i++)
        {
            await service.PublishAsync(Info($"behind {i}"));
        }

        await service.FlushAsync().WaitAsync(HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.FailedRejected, stats.FailingSince).ShouldBe((21L, 1L, (DateTimeOffset?)null));
        (await ReadAllAsync()).Select(r => r.Envelope.Payload.Message).ShouldBe(["before", .. Enumerable.Range(0, 20).Select(i => $"behind {i}")]);
    }

    [Fact]
    public async Task ServerKilledAndRestartedWhilePublishing_DefaultOptions_EveryReturnedIdStoredOnce()
    {
        var stream = new NatsJetStreamEventStream(Connection, Options());
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
                long id = await service.PublishAsync(i++ % 10 == 0 ? Critical("steady") : Info("steady"));
                lock (published)
                {
                    published.Add(id);
                    if (published.Count == 300) reached.TrySetResult();
                }
            }
        });

        await reached.Task.WaitAsync(HangGuard);
        await Server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(3)); // the outage itself: a span of wall time, not a wait for background work
        await Server.RestartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1)); // and some publishing after it
        await stop.CancelAsync();
        await producer.WaitAsync(HangGuard);
        await service.FlushAsync().WaitAsync(HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        output.WriteLine($"published {published.Count}; {stats}");
        (stats.Failed, stats.Dropped, stats.Pending).ShouldBe((0L, 0L, 0L), stats.ToString());
        List<(string Subject, EventEnvelope Envelope)> read = await ReadAllAsync();
        read.Select(r => r.Envelope.Id).ShouldBeUnique();
        long[] stored = [.. read.Where(r => r.Envelope.Type == ImmuneEventTypes.EventPublished).Select(r => r.Envelope.Payload.EventId)];
        published.Except(stored).ShouldBeEmpty("returned but not stored");
        stored.Length.ShouldBe(published.Count);
    }

    private static EventEnvelope Envelope(long eventId)
    {
        DateTimeOffset at = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
        return new EventEnvelope($"evt_immune_{eventId}", ImmuneEventTypes.EventPublished, "checkout", null, at,
            new ImmuneEventPublishedPayload(eventId, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", at), new EventMeta("c") { InstanceId = "i1" });
    }
}
