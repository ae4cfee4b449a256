using Immune.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary><see cref="RedisStreamsEventStream"/> on a real redis-server.</summary>
[Collection(nameof(RedisCollection))]
public sealed class RedisStreamsEventStreamTests(RedisFixture redis) : RedisStreamTest(redis)
{
    [Fact]
    public async Task Publish_OneCriticalEvent_TwoEntriesWithTheirTypeIdAndEnvelope()
    {
        await PublishAsync(Critical("token reused"));

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
    public async Task Publish_Batches_OneCallCarriesManyEnvelopesInRecordOrderEachWrittenOnce()
    {
        var counting = new CountingBatchStream(new RedisStreamsEventStream(Connection, Options()));
        await using (var service = new ImmuneService(counting, new ImmuneOptions { MaxBatchSize = 64 }))
        {
            for (int i = 0; i < 2_000; i++)
            {
                await service.PublishAsync(i % 100 == 0 ? Critical($"e{i}") : Info($"e{i}"));
            }

            await service.FlushAsync().WaitAsync(HangGuard);
            service.GetDeliveryStats().Delivered.ShouldBe(2_020);
        }

        EventEnvelope[] envelopes = [.. (await Db.StreamRangeAsync(StreamKey)).Select(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!))];
        envelopes.Length.ShouldBe(2_020);
        envelopes.Select(e => e.Id).Distinct().Count().ShouldBe(2_020);
        envelopes.Select(e => e.Payload.EventId).ShouldBe(envelopes.Select(e => e.Payload.EventId).Order());
        counting.Sizes.Max().ShouldBeGreaterThan(1);
        counting.Sizes.ShouldAllBe(size => size <= 64);
    }

    [Fact]
    public async Task Publish_RedisRefusesTheBatch_RetriedWholeAndWrittenOnce()
    {
        // The key holds a string, so every XADD of the first call fails with WRONGTYPE; the key is then freed for the retry.
        await Db.StringSetAsync(StreamKey, "not a stream");
        var flaky = new CountingBatchStream(new RedisStreamsEventStream(Connection, Options()), async (call, publish) =>
        {
            try
            {
                await publish();
            }
            finally
            {
                if (call == 1) await Db.KeyDeleteAsync(StreamKey);
            }
        });
        await using var service = new ImmuneService(flaky, new ImmuneOptions { DeliveryAttempts = 2, RetryDelay = TimeSpan.Zero });

        await service.PublishAsync(Critical("retried"));
        await service.FlushAsync().WaitAsync(HangGuard);

        service.GetDeliveryStats().Delivered.ShouldBe(2);
        flaky.Sizes.ShouldBe([2, 2]);
        (await Db.StreamRangeAsync(StreamKey)).Select(e => (string?)e["type"]).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent]);
    }

    [Fact]
    public async Task Publish_BatchTakenButItsAnswerLost_WrittenAgainWithTheSameIds()
    {
        var lostAck = new CountingBatchStream(new RedisStreamsEventStream(Connection, Options()), async (call, publish) =>
        {
            await publish();
            if (call == 1) throw new RedisTimeoutException("the reply never came", CommandStatus.Sent);
        });
        await using var service = new ImmuneService(lostAck, new ImmuneOptions { DeliveryAttempts = 2, RetryDelay = TimeSpan.Zero });

        await service.PublishAsync(Info("once, twice"));
        await service.FlushAsync().WaitAsync(HangGuard);

        StreamEntry[] entries = await Db.StreamRangeAsync(StreamKey);
        entries.Length.ShouldBe(2);
        ((string?)entries[0]["id"]).ShouldBe((string?)entries[1]["id"]); // a consumer deduplicating by id sees it once
    }

    [Fact]
    public async Task Publish_RedisStopped_IdsReturnedAndFailuresCounted_AfterItsRestartLaterEnvelopesArrive()
    {
        await using RedisServer own = await RedisServer.StartAsync();
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(own.ConnectionString));
        await using var service = new ImmuneService(
            new RedisStreamsEventStream(connection, Options()),
            new ImmuneOptions { DeliveryAttempts = 1, PublishTimeout = TimeSpan.FromSeconds(2) });

        await own.StopAsync();
        for (int i = 0; i < 3; i++)
        {
            (await service.PublishAsync(Info($"lost {i}"))).ShouldBe(i + 1);
        }

        await service.FlushAsync().WaitAsync(HangGuard);
        service.GetDeliveryStats().Failed.ShouldBe(3);

        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive) restored.TrySetResult();
        };
        await own.RestartAsync();
        await restored.Task.WaitAsync(HangGuard); // the multiplexer reconnects by itself

        (await service.PublishAsync(Info("after restart"))).ShouldBe(4);
        await service.FlushAsync().WaitAsync(HangGuard);
        service.GetDeliveryStats().Delivered.ShouldBe(1);
        (await connection.GetDatabase().StreamRangeAsync(StreamKey)).ShouldAllBe(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!).Payload.Message == "after restart");
    }

    [Fact]
    public async Task Publish_AnEnvelopeOverTheServersLimit_FailsAloneAsRejected_TheRestIsDeliveredAtOnce()
    {
        // A server that takes at most 1 MiB per value, and a transport told so.
        await using RedisServer small = await RedisServer.StartAsync(false, "--proto-max-bulk-len", "1mb");
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(small.ConnectionString));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow); // never advanced: no backoff or timeout can pass, so what is delivered went at once
        await using var service = new ImmuneService(new RedisStreamsEventStream(connection, Options(o => o.MaxEnvelopeBytes = 1 << 20)), timeProvider: time);
        var huge = new Dictionary<string, object?>();
        for (int i = 0; i < 20; i++)
        {
            huge[$"k{i}"] = Enumerable.Range(0, 20).Select(_ => (object?)new string('x', 4096)).ToList(); // 1.6 MB of JSON
        }

        await service.PublishAsync(Info("before"));
        await service.PublishAsync(Info("oversized") with { Meta = huge });
        for (int i = 0; i < 20; i++)
        {
            await service.PublishAsync(Info($"behind {i}"));
        }

        await service.FlushAsync().WaitAsync(HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.FailedRejected, stats.Failed, stats.FailingSince).ShouldBe((21L, 1L, 1L, (DateTimeOffset?)null));
        (await connection.GetDatabase().StreamRangeAsync(StreamKey)).Select(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!).Payload.Message)
            .ShouldBe(["before", .. Enumerable.Range(0, 20).Select(i => $"behind {i}")]);
    }

    [Fact]
    public void Constructor_InvalidOptions_NamesEveryInvalidOne()
    {
        var exception = Should.Throw<ArgumentException>(() => new RedisStreamsEventStream(Connection, new RedisStreamsOptions
        {
            StreamKey = " ", MaxEnvelopeBytes = 10, BatchSize = 0, DeadLetterKey = "immune:events",
        }));

        exception.ParamName.ShouldBe("options");
        exception.Message.ShouldStartWith("Invalid RedisStreamsOptions:");
        foreach (string name in new[] { "StreamKey", "MaxEnvelopeBytes", "BatchSize" })
        {
            exception.Message.ShouldContain(name);
        }
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
