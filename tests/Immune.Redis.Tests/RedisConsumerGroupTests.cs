using Immune.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary>
/// <see cref="RedisConsumerGroup"/> with <see cref="ImmunePaging"/> on a real redis-server: each entry handled once across
/// the group, a dead consumer's entries reclaimed and paged once, what is no envelope dead-lettered, a vanished group
/// made again, and a pager outage that ends neither the loop nor paging: the page stays pending and goes when the pager
/// is back.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class RedisConsumerGroupTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private readonly RecordingPager _pager = new();

    private RedisConsumerGroup Consumer(string name, TimeSpan? reclaimAfter = null, int batch = 7, RecordingPager? pager = null, TimeSpan? poll = null)
        => new(Connection, new ImmunePaging(pager ?? _pager, new RedisPagerLedger(Connection, Options())),
            Options(o => { o.ConsumerName = name; o.ReclaimAfter = reclaimAfter ?? TimeSpan.FromMinutes(5); o.BatchSize = batch; o.PollInterval = poll ?? o.PollInterval; }),
            NullLogger<RedisConsumerGroup>.Instance);

    private static async Task<int> DrainAsync(RedisConsumerGroup consumer)
    {
        int total = 0;
        for (int read; (read = await consumer.ReadOnceAsync()) > 0;)
        {
            total += read;
        }

        return total;
    }

    [Fact]
    public async Task TwoConsumersOfOneGroup_HandleEachEntryOnce()
    {
        await PublishAsync([.. Enumerable.Range(0, 50).Select(i => Info($"e{i}"))]);
        RedisConsumerGroup first = Consumer("first"), second = Consumer("second");
        await first.EnsureGroupAsync();

        int handled = 0;
        for (int round = 0; round < 20 && handled < 50; round++)
        {
            handled += await first.ReadOnceAsync();
            handled += await second.ReadOnceAsync();
        }

        handled.ShouldBe(50);
        first.GetStatus().Read.ShouldBeGreaterThan(0);
        second.GetStatus().Read.ShouldBeGreaterThan(0);
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task AConsumerDiesBeforeItsAcknowledgement_AnotherReclaimsAndPagesOnce()
    {
        string instance = await PublishAsync(Critical("a"), Critical("b"));
        RedisConsumerGroup survivor = Consumer("survivor", reclaimAfter: TimeSpan.FromSeconds(1));
        await survivor.EnsureGroupAsync();
        (await Db.StreamReadGroupAsync(StreamKey, "immune-consumers", "crashed", StreamPosition.NewMessages, 10)).Length.ShouldBe(4);
        foreach (StreamEntry entry in await Db.StreamRangeAsync(StreamKey))
        {
            // Pending with the dead consumer for ten minutes, as if it had died that long ago.
            await Db.ExecuteAsync("XCLAIM", StreamKey, "immune-consumers", "crashed", "0", entry.Id.ToString(), "IDLE", "600000");
        }

        (await DrainAsync(survivor)).ShouldBe(4);

        _pager.Sent.Select(s => s.Key).ShouldBe([PageKey(instance, 1), PageKey(instance, 2)]);
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task TheSameCriticalEnvelopeTwice_PagesOnce()
    {
        string instance = await PublishAsync(Critical("once"));
        StreamEntry critical = (await Db.StreamRangeAsync(StreamKey)).Single(e => (string?)e["type"] == ImmuneEventTypes.CriticalEvent);
        await Db.StreamAddAsync(StreamKey, critical.Values); // a producer's retry wrote it again
        RedisConsumerGroup consumer = Consumer("pager");

        (await DrainAsync(consumer)).ShouldBe(3);

        _pager.Sent.ShouldHaveSingleItem().Key.ShouldBe(PageKey(instance, 1));
    }

    [Fact]
    public async Task AnEntryThatIsNoEnvelope_GoesToTheDeadLetterStream_AndTheRestIsHandled()
    {
        await Db.StreamAddAsync(StreamKey, [new NameValueEntry("type", "immune.event_published"), new NameValueEntry("envelope", "{not json")]);
        await Db.StreamAddAsync(StreamKey, [new NameValueEntry("type", "something")]);
        await PublishAsync(Critical("fine"));
        RedisConsumerGroup consumer = Consumer("solo");

        (await DrainAsync(consumer)).ShouldBe(4);

        StreamEntry[] dead = await Db.StreamRangeAsync(StreamKey + ":dead");
        dead.Length.ShouldBe(2);
        ((string?)dead[0]["envelope"]).ShouldBe("{not json");
        ((string?)dead[0]["error"]).ShouldNotBeNullOrEmpty();
        _pager.Sent.Count.ShouldBe(1);
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task EventIdsRepeatAfterAProducerRestart_EveryIncidentIsPagedOnce()
    {
        string before = await PublishAsync(Critical("a"), Critical("b"));
        RedisConsumerGroup consumer = Consumer("pager");
        await DrainAsync(consumer);
        string after = await PublishAsync(Critical("c"), Critical("d")); // the restarted process numbers from 1 again
        await DrainAsync(consumer);

        _pager.Sent.Select(s => s.Key).ShouldBe([PageKey(before, 1), PageKey(before, 2), PageKey(after, 1), PageKey(after, 2)]);
    }

    [Fact]
    public async Task AnIncidentResolvedThenEscalatedAgain_PagesAgainAndResolvesBetween()
    {
        string instance;
        await using (var service = new ImmuneService(new RedisStreamsEventStream(Connection, Options())))
        {
            long id = await service.PublishAsync(Critical("flapping"));
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Info);
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical);
            await service.FlushAsync().WaitAsync(HangGuard);
            instance = service.InstanceId;
        }

        await DrainAsync(Consumer("pager"));

        _pager.Sent.Select(s => (s.Name, s.Key)).ShouldBe([("trigger", PageKey(instance, 1)), ("resolve", PageKey(instance, 1)), ("trigger", PageKey(instance, 1))]);
    }

    [Fact]
    public async Task TheStreamAndItsGroupVanish_TheGroupIsMadeAgainAndTheConsumerGoesOn()
    {
        await PublishAsync(Info("before"));
        RedisConsumerGroup consumer = Consumer("solo");
        (await consumer.ReadOnceAsync()).ShouldBe(1);

        await Db.KeyDeleteAsync(StreamKey); // as after a restart of a Redis without persistence
        await Should.ThrowAsync<RedisServerException>(() => consumer.ReadOnceAsync()); // NOGROUP, once
        await PublishAsync(Info("after"));

        (await DrainAsync(consumer)).ShouldBe(1);
    }

    [Fact]
    public async Task RunAsync_ThePagerIsDownForAWhile_TheLoopGoesOn_ThePagePendingGoesWhenItIsBack_AndLaterPagesToo()
    {
        var pager = new RecordingPager();
        var failures = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int failed = 0;
        pager.Problem = () =>
        {
            if (Interlocked.Increment(ref failed) >= 3) failures.TrySetResult();
            return new HttpRequestException("HTTP 500 from the pager");
        };
        var paged = new TaskCompletionSource<RecordingPager.Action>(TaskCreationOptions.RunContinuationsAsynchronously);
        pager.Took += action => paged.TrySetResult(action);
        RedisConsumerGroup consumer = Consumer("solo", pager: pager, poll: TimeSpan.FromMilliseconds(10));
        string first = await PublishAsync(Critical("during the outage"));
        using var stop = new CancellationTokenSource();
        Task running = consumer.RunAsync(stop.Token);

        await failures.Task.WaitAsync(HangGuard); // three tries of the same page, the loop alive between them
        consumer.GetStatus().FailingSince.ShouldNotBeNull();
        consumer.GetStatus().LastReadAt.ShouldNotBeNull(); // the broker answers: what the host shows is live, paging is what fails
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBeGreaterThan(0);
        pager.Problem = static () => null; // the pager is back

        (await paged.Task.WaitAsync(HangGuard)).Key.ShouldBe(PageKey(first, 1));
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pager.Took += action => { if (action.Key != PageKey(first, 1)) later.TrySetResult(); };
        string second = await PublishAsync(Critical("after it"));
        await later.Task.WaitAsync(HangGuard);

        await stop.CancelAsync();
        await running.WaitAsync(HangGuard);
        pager.Sent.Select(s => s.Key).ShouldBe([PageKey(first, 1), PageKey(second, 1)]);
        running.IsCompletedSuccessfully.ShouldBeTrue();
    }

    [Fact]
    public async Task ThePagerRefusesAPage_ItIsNeitherRecordedNorRetried_TheConsumerGoesOn()
    {
        string instance = await PublishAsync(Critical("refused"), Critical("fine"));
        int calls = 0;
        _pager.Problem = () => Interlocked.Increment(ref calls) == 1 ? new ImmunePageRefusedException("HTTP 400: bad routing key") : null;
        RedisConsumerGroup consumer = Consumer("solo");

        (await DrainAsync(consumer)).ShouldBe(4);

        _pager.Sent.ShouldHaveSingleItem().Key.ShouldBe(PageKey(instance, 2));
        (await Db.KeyExistsAsync($"{StreamKey}:pager:{PageKey(instance, 1)}")).ShouldBeFalse(); // not recorded as sent
        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task TwoConsumersAtOnceOnARandomFleet_EachIncidentInTimeOrder_EndingInTheEventsState(int seed)
    {
        var random = new Random(seed);
        var finals = new List<(long Id, ImmuneSeverity Severity)>();
        string instance;
        await using (var service = new ImmuneService(new RedisStreamsEventStream(Connection, Options())))
        {
            for (int step = 0; step < 150; step++)
            {
                IReadOnlyList<ImmuneEvent> recent = service.GetRecentEvents(TimeSpan.MaxValue);
                if (recent.Count > 0 && random.Next(2) == 0)
                {
                    ImmuneEvent target = recent[random.Next(recent.Count)];
                    await service.ChangeSeverityAsync(target.Id, target.Severity == ImmuneSeverity.Critical ? (ImmuneSeverity)random.Next(2) : ImmuneSeverity.Critical);
                }
                else
                {
                    await service.PublishAsync(new NewImmuneEvent((ImmuneSeverity)random.Next(3), ImmuneEventType.ErrorSpike, $"step {step}"));
                }
            }

            await service.FlushAsync().WaitAsync(HangGuard);
            finals.AddRange(service.GetRecentEvents(TimeSpan.MaxValue).Select(e => (e.Id, e.Severity)));
            instance = service.InstanceId;
        }

        foreach (StreamEntry entry in (await Db.StreamRangeAsync(StreamKey)).Where(_ => random.Next(5) == 0))
        {
            await Db.StreamAddAsync(StreamKey, entry.Values); // redeliveries, out of order
        }

        RedisConsumerGroup first = Consumer("c1", batch: 3), second = Consumer("c2", batch: 5);
        await first.EnsureGroupAsync();
        await Task.WhenAll(Task.Run(() => DrainAsync(first)), Task.Run(() => DrainAsync(second))).WaitAsync(HangGuard);

        _pager.Sent.Select(s => s.EnvelopeId).ShouldBeUnique();
        foreach ((long id, ImmuneSeverity severity) in finals)
        {
            RecordingPager.Action[] mine = [.. _pager.Sent.Where(s => s.Key == PageKey(instance, id))];
            for (int i = 1; i < mine.Length; i++)
            {
                mine[i].At.ShouldBeGreaterThan(mine[i - 1].At, $"event {id}: its actions reached the pager out of time order");
            }

            if (severity == ImmuneSeverity.Critical)
            {
                mine.ShouldNotBeEmpty();
                mine[^1].Name.ShouldBe("trigger");
            }
            else if (mine.Length > 0)
            {
                mine[^1].Name.ShouldBe("resolve");
            }
        }
    }
}
