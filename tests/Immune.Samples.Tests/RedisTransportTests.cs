using System.Net;
using System.Net.Http.Json;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

[Collection(nameof(RedisCollection))]
public sealed class RedisTransportTests(RedisFixture redis) : RedisStreamTest(redis)
{

    private IDatabase Db => Connection.GetDatabase();

    private ImmuneStreamConsumer Consumer(string name, IOnCallPager pager, TimeSpan? reclaimAfter = null) => new(
        Connection,
        pager,
        new ImmuneStreamConsumerOptions { StreamKey = StreamKey, DeadLetterKey = StreamKey + ":dead", ConsumerName = name, ReclaimAfter = reclaimAfter ?? TimeSpan.FromMinutes(5), BatchSize = 7 },
        NullLogger<ImmuneStreamConsumer>.Instance);

    /// <summary>Publishes through a new service instance (a new process, as far as the stream can tell); returns its instance id.</summary>
    private async Task<string> PublishAsync(params NewImmuneEvent[] events)
    {
        await using var service = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey }));
        foreach (NewImmuneEvent e in events)
        {
            await service.PublishAsync(e);
        }

        await service.FlushAsync();
        service.GetDeliveryStats().Delivered.ShouldBe(service.GetDeliveryStats().Queued);
        return service.InstanceId;
    }

    private static string PageKey(string instanceId, long eventId) => $"immune_critical_immune_service_{instanceId}_{eventId}";

    private static NewImmuneEvent Critical(string message) => new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message);

    private static NewImmuneEvent Info(string message) => new(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, message);

    [Fact]
    public async Task Api_WithRedisConnectionString_OneCriticalEventLeavesTwoEntriesReadableByImmuneJson()
    {
        await using WebApplicationFactory<Program> factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Redis", Server.ConnectionString)
            .UseSetting("Immune:StreamKey", StreamKey));
        HttpClient client = factory.CreateClient();

        HttpResponseMessage response = await client.PostAsJsonAsync("/api/immune/event", new { severity = "CRITICAL", type = "POLICY_VIOLATION", message = "token reused" });
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await factory.Services.GetRequiredService<ImmuneService>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(90));

        StreamEntry[] entries = await Db.StreamRangeAsync(StreamKey);
        entries.Select(e => (string?)e["type"]).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent]);
        foreach (StreamEntry entry in entries)
        {
            EventEnvelope envelope = ImmuneJson.DeserializeEnvelope((string)entry["envelope"]!);
            ((string?)entry["id"]).ShouldBe(envelope.Id);
            ((string?)entry["type"]).ShouldBe(envelope.Type);
            envelope.Payload.EventId.ShouldBe(1);
        }
    }

    [Fact]
    public async Task Stream_ManyEnvelopes_IsTrimmedApproximatelyToMaxLength()
    {
        await using var service = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey, MaxLength = 10 }));
        for (int i = 0; i < 1_000; i++)
        {
            await service.PublishAsync(Info($"e{i}"));
        }

        await service.FlushAsync();

        service.GetDeliveryStats().Delivered.ShouldBe(1_000);
        long length = await Db.StreamLengthAsync(StreamKey);
        length.ShouldBeInRange(10, 200); // MAXLEN ~ trims whole macro nodes
    }

    [Fact]
    public async Task Consumers_TwoInOneGroup_HandleEachEntryOnce()
    {
        await PublishAsync([.. Enumerable.Range(0, 50).Select(i => Info($"e{i}"))]);
        var pager = Substitute.For<IOnCallPager>();
        ImmuneStreamConsumer first = Consumer("first", pager), second = Consumer("second", pager);
        await first.EnsureGroupAsync();

        int handled = 0;
        for (int round = 0; round < 20 && handled < 50; round++)
        {
            handled += await first.ProcessBatchAsync();
            handled += await second.ProcessBatchAsync();
        }

        handled.ShouldBe(50);
        first.PublishedBySeverity[ImmuneSeverity.Info].ShouldBeGreaterThan(0);
        second.PublishedBySeverity[ImmuneSeverity.Info].ShouldBeGreaterThan(0);
        (first.PublishedBySeverity[ImmuneSeverity.Info] + second.PublishedBySeverity[ImmuneSeverity.Info]).ShouldBe(50);
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task Consumers_OneCrashesBeforeAck_AnotherReclaimsAndPagesOnce()
    {
        string instance = await PublishAsync(Critical("a"), Critical("b"));
        var pager = Substitute.For<IOnCallPager>();
        ImmuneStreamConsumer survivor = Consumer("survivor", pager, reclaimAfter: TimeSpan.Zero);
        await survivor.EnsureGroupAsync();
        StreamEntry[] taken = await Db.StreamReadGroupAsync(StreamKey, "immune-consumers", "crashed", StreamPosition.NewMessages, 10);
        taken.Length.ShouldBe(4); // the crashed consumer read everything and acknowledged nothing

        int handled = await survivor.ProcessBatchAsync();
        int again = await survivor.ProcessBatchAsync();

        handled.ShouldBe(4);
        again.ShouldBe(0);
        await pager.Received(1).PageAsync(PageKey(instance, 1), Arg.Any<EventEnvelope>(), Arg.Any<CancellationToken>());
        await pager.Received(1).PageAsync(PageKey(instance, 2), Arg.Any<EventEnvelope>(), Arg.Any<CancellationToken>());
        pager.ReceivedCalls().Count().ShouldBe(2);
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task Consumer_SameCriticalEnvelopeDeliveredTwice_PagesOnce()
    {
        string instance = await PublishAsync(Critical("once"));
        StreamEntry critical = (await Db.StreamRangeAsync(StreamKey)).Single(e => (string?)e["type"] == ImmuneEventTypes.CriticalEvent);
        await Db.StreamAddAsync(StreamKey, critical.Values); // a producer retry wrote it again
        var pager = Substitute.For<IOnCallPager>();
        ImmuneStreamConsumer consumer = Consumer("pager", pager);
        await consumer.EnsureGroupAsync();

        (await consumer.ProcessBatchAsync()).ShouldBe(3);

        await pager.Received(1).PageAsync(PageKey(instance, 1), Arg.Any<EventEnvelope>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Consumer_MalformedEntry_GoesToDeadLetterAndLaterEntriesAreHandled()
    {
        await Db.StreamAddAsync(StreamKey, [new NameValueEntry("type", "immune.event_published"), new NameValueEntry("envelope", "{not json")]);
        await Db.StreamAddAsync(StreamKey, [new NameValueEntry("type", "something")]);
        await PublishAsync(Info("fine"));
        ImmuneStreamConsumer consumer = Consumer("solo", Substitute.For<IOnCallPager>());
        await consumer.EnsureGroupAsync();

        (await consumer.ProcessBatchAsync()).ShouldBe(3);

        StreamEntry[] dead = await Db.StreamRangeAsync(StreamKey + ":dead");
        dead.Length.ShouldBe(2);
        ((string?)dead[0]["envelope"]).ShouldBe("{not json");
        ((string?)dead[0]["error"]).ShouldNotBeNullOrEmpty();
        consumer.PublishedBySeverity[ImmuneSeverity.Info].ShouldBe(1);
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task Stream_RedisStopped_PublishingReturnsIdsAndCountsFailures_AfterRestartLaterEnvelopesArrive()
    {
        await using RedisServer own = await RedisServer.StartAsync();
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamEventStream.ConnectionOptions(own.ConnectionString));
        await using var service = new ImmuneService(
            new RedisStreamEventStream(connection, new RedisStreamOptions { StreamKey = StreamKey }),
            new ImmuneOptions { DeliveryAttempts = 1, PublishTimeout = TimeSpan.FromSeconds(2) });

        await own.StopAsync();
        for (int i = 0; i < 3; i++)
        {
            (await service.PublishAsync(Info($"lost {i}"))).ShouldBe(i + 1);
        }

        await service.FlushAsync().WaitAsync(TimeSpan.FromSeconds(90));
        service.GetDeliveryStats().Failed.ShouldBe(3);

        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive) restored.TrySetResult(); // the connection commands use, not the subscriber
        };
        await own.RestartAsync();
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(90)); // the multiplexer reconnects by itself

        (await service.PublishAsync(Info("after restart"))).ShouldBe(4);
        await service.FlushAsync().WaitAsync(TimeSpan.FromSeconds(90));

        service.GetDeliveryStats().Delivered.ShouldBe(1);
        IDatabase db = connection.GetDatabase();
        StreamEntry[] entries = await db.StreamRangeAsync(StreamKey);
        entries.ShouldNotBeEmpty();
        entries.ShouldAllBe(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!).Payload.Message.StartsWith("after restart"));
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.Queued.ShouldBe(stats.Delivered + stats.Failed + stats.Dropped + stats.Pending);
    }

    [Fact]
    public async Task Stream_Batches_OneCallCarriesManyEnvelopesInRecordOrderEachWrittenOnce()
    {
        var counting = new CountingBatchStream(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey, MaxLength = 100_000 }));
        await using (var service = new ImmuneService(counting, new ImmuneOptions { MaxBatchSize = 64 }))
        {
            for (int i = 0; i < 2_000; i++)
            {
                await service.PublishAsync(i % 100 == 0 ? Critical($"e{i}") : Info($"e{i}"));
            }

            await service.FlushAsync();
            service.GetDeliveryStats().Delivered.ShouldBe(2_020);
        }

        StreamEntry[] entries = await Db.StreamRangeAsync(StreamKey);
        EventEnvelope[] envelopes = [.. entries.Select(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!))];
        envelopes.Length.ShouldBe(2_020); // no entry twice
        envelopes.Select(e => e.Id).Distinct().Count().ShouldBe(2_020);
        envelopes.Select(e => e.Payload.EventId).ShouldBe(envelopes.Select(e => e.Payload.EventId).Order()); // record order
        envelopes.Where(e => e.Type == ImmuneEventTypes.CriticalEvent).Count().ShouldBe(20);
        counting.Sizes.Max().ShouldBeGreaterThan(1); // really batched
        counting.Sizes.ShouldAllBe(size => size <= 64);
    }

    [Fact]
    public async Task Stream_BatchRejectedByRedis_IsRetriedWholeAndWrittenOnce()
    {
        // The key holds a string, so every XADD of the first call fails with WRONGTYPE; the key is then freed for the retry.
        await Db.StringSetAsync(StreamKey, "not a stream");
        var inner = new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey });
        var flaky = new CountingBatchStream(inner, async (call, publish) =>
        {
            if (call == 1)
            {
                try
                {
                    await publish();
                }
                finally
                {
                    await Db.KeyDeleteAsync(StreamKey);
                }
            }
            else
            {
                await publish();
            }
        });
        await using var service = new ImmuneService(flaky, new ImmuneOptions { DeliveryAttempts = 2, RetryDelay = TimeSpan.Zero });

        await service.PublishAsync(Critical("retried"));
        await service.FlushAsync();

        service.GetDeliveryStats().Delivered.ShouldBe(2);
        flaky.Sizes.ShouldBe([2, 2]); // one batch, attempted twice
        StreamEntry[] entries = await Db.StreamRangeAsync(StreamKey);
        entries.Select(e => (string?)e["type"]).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent]);
    }

    [Fact]
    public async Task Stream_BatchAcceptedButUnacknowledged_IsWrittenAgainWithTheSameIds()
    {
        // Redis took the batch, but the answer was lost: the service retries it whole, the documented at-least-once.
        var inner = new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey });
        var lostAck = new CountingBatchStream(inner, async (call, publish) =>
        {
            await publish();
            if (call == 1) throw new RedisTimeoutException("the reply never came", CommandStatus.Sent);
        });
        await using var service = new ImmuneService(lostAck, new ImmuneOptions { DeliveryAttempts = 2, RetryDelay = TimeSpan.Zero });

        await service.PublishAsync(Info("once, twice"));
        await service.FlushAsync();

        StreamEntry[] entries = await Db.StreamRangeAsync(StreamKey);
        entries.Length.ShouldBe(2);
        ((string?)entries[0]["id"]).ShouldBe((string?)entries[1]["id"]); // a consumer deduplicating by id sees it once
        service.GetDeliveryStats().Delivered.ShouldBe(1);
    }

    [Fact]
    public async Task Consumer_ProducerRestartedSoEventIdsRepeat_EveryIncidentIsPagedOnce()
    {
        string before = await PublishAsync(Critical("a"), Critical("b"));
        var pager = Substitute.For<IOnCallPager>();
        ImmuneStreamConsumer consumer = Consumer("pager", pager);
        await consumer.EnsureGroupAsync();
        await consumer.ProcessBatchAsync();

        string after = await PublishAsync(Critical("c"), Critical("d")); // the restarted process numbers from 1 again
        while (await consumer.ProcessBatchAsync() > 0)
        {
        }

        after.ShouldNotBe(before);
        foreach (string key in new[] { PageKey(before, 1), PageKey(before, 2), PageKey(after, 1), PageKey(after, 2) })
        {
            await pager.Received(1).PageAsync(key, Arg.Any<EventEnvelope>(), Arg.Any<CancellationToken>());
        }

        pager.ReceivedCalls().Count().ShouldBe(4);
    }

    [Fact]
    public async Task Consumer_IncidentResolvedThenEscalatedAgain_PagesAgain()
    {
        string instance;
        await using (var service = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey })))
        {
            long id = await service.PublishAsync(Critical("flapping"));
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Info);     // resolved
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical); // back
            await service.FlushAsync();
            instance = service.InstanceId;
        }

        var pager = Substitute.For<IOnCallPager>();
        ImmuneStreamConsumer consumer = Consumer("pager", pager);
        await consumer.EnsureGroupAsync();
        while (await consumer.ProcessBatchAsync() > 0)
        {
        }

        await pager.Received(2).PageAsync(PageKey(instance, 1), Arg.Any<EventEnvelope>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Consumer_StreamAndGroupGone_RecreatesTheGroupAndGoesOn()
    {
        await PublishAsync(Info("before"));
        ImmuneStreamConsumer consumer = Consumer("solo", Substitute.For<IOnCallPager>());
        await consumer.EnsureGroupAsync();
        (await consumer.ProcessOrRecoverAsync()).ShouldBe(1);

        await Db.KeyDeleteAsync(StreamKey); // as after a restart of a Redis without persistence
        await Should.ThrowAsync<RedisServerException>(() => consumer.ProcessBatchAsync()); // NOGROUP
        (await consumer.ProcessOrRecoverAsync()).ShouldBe(0);
        await PublishAsync(Info("after"));

        (await consumer.ProcessOrRecoverAsync()).ShouldBe(1);
        consumer.PublishedBySeverity[ImmuneSeverity.Info].ShouldBe(2);
    }

    /// <summary>Forwards batches to a real stream, recording their sizes; a script may wrap each call.</summary>
    private sealed class CountingBatchStream(IBatchEventStream inner, Func<int, Func<Task>, Task>? around = null) : IBatchEventStream
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<int> _sizes = new();
        private int _calls;

        public IReadOnlyList<int> Sizes => [.. _sizes];

        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => inner.PublishAsync(envelope, cancellationToken);

        public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
        {
            _sizes.Enqueue(envelopes.Length);
            int call = Interlocked.Increment(ref _calls);
            Func<Task> publish = () => inner.PublishBatchAsync(envelopes, cancellationToken).AsTask();
            await (around is null ? publish() : around(call, publish));
        }
    }
}
