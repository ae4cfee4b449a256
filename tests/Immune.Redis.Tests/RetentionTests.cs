using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary>
/// Retention never drops what a consumer group has not read: the producers' trim keeps every entry a group has pending
/// or not yet been handed; a stream without groups keeps its cap; and when entries go anyway (an operator's XTRIM), the
/// consumer that finds the gap says how many it lost.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class RetentionTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private RedisStreamsOptions Trimming(Action<RedisStreamsOptions>? more = null) => Options(o =>
    {
        o.MinRetention = TimeSpan.Zero; // trim all that the groups allow
        o.UngroupedMaxLength = 1_000;
        more?.Invoke(o);
    });

    private RedisConsumerGroup Group(string name = "pager", int batch = 500)
        => new(Connection, null, Trimming(o => { o.ConsumerName = name; o.BatchSize = batch; }), NullLogger<RedisConsumerGroup>.Instance);

    private async Task PublishManyAsync(RedisStreamsEventStream stream, int from, int count)
    {
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = 100_000 });
        for (int i = from; i < from + count; i++)
        {
            await service.PublishAsync(Info($"e{i}"));
        }

        await service.FlushAsync().WaitAsync(HangGuard);
        service.GetDeliveryStats().Delivered.ShouldBe(count);
    }

    [Fact]
    public async Task AGroupDownWhileMoreArriveThanTheOldCap_ReadsEveryEntryWhenItReturns_InOrder_NoneTwice()
    {
        var stream = new RedisStreamsEventStream(Connection, Trimming());
        RedisConsumerGroup consumer = Group();
        await consumer.EnsureGroupAsync();
        await PublishManyAsync(stream, 0, 100);
        (await consumer.ReadOnceAsync()).ShouldBe(100); // read and acknowledged: these may go

        await PublishManyAsync(stream, 100, 15_000); // the consumer is down meanwhile
        await stream.TrimAsync();

        long length = await Db.StreamLengthAsync(StreamKey);
        length.ShouldBeLessThan(15_100); // what the group read went
        string[] kept = [.. (await Db.StreamRangeAsync(StreamKey)).Select(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!))
            .Select(e => e.Payload.Message).SkipWhile(m => m != "e100")];
        kept.ShouldBe(Enumerable.Range(100, 15_000).Select(i => $"e{i}")); // every unread entry is there, in order, once

        while (await consumer.ReadOnceAsync() > 0)
        {
        }

        ImmuneFeedStatus status = consumer.GetStatus();
        (status.Read, status.Lost, status.Pending, status.Lag).ShouldBe((15_100L, 0L, 0L, (long?)0));
    }

    [Fact]
    public async Task AnEntryPendingWithADeadConsumer_IsNeverTrimmed()
    {
        var stream = new RedisStreamsEventStream(Connection, Trimming());
        await Group().EnsureGroupAsync();
        await PublishManyAsync(stream, 0, 10);
        StreamEntry[] taken = await Db.StreamReadGroupAsync(StreamKey, "immune-consumers", "dead", StreamPosition.NewMessages, 1);
        await Db.StreamReadGroupAsync(StreamKey, "immune-consumers", "alive", StreamPosition.NewMessages, 100);
        await Db.StreamAcknowledgeAsync(StreamKey, "immune-consumers", [.. (await Db.StreamRangeAsync(StreamKey)).Skip(1).Select(e => e.Id)]);
        await PublishManyAsync(stream, 10, 3_000);

        await stream.TrimAsync();

        (await Db.StreamRangeAsync(StreamKey, taken[0].Id, taken[0].Id)).ShouldHaveSingleItem(); // still there for whoever reclaims it
    }

    [Fact]
    public async Task MinRetention_KeepsWhatEveryGroupRead_ForAConsumerThatRebuildsItsView()
    {
        var stream = new RedisStreamsEventStream(Connection, Trimming(o => o.MinRetention = TimeSpan.FromHours(1)));
        RedisConsumerGroup consumer = Group();
        await consumer.EnsureGroupAsync();
        await PublishManyAsync(stream, 0, 2_000);
        while (await consumer.ReadOnceAsync() > 0)
        {
        }

        await stream.TrimAsync();

        (await Db.StreamLengthAsync(StreamKey)).ShouldBe(2_000);
    }

    [Fact]
    public async Task AStreamWithoutGroups_KeepsItsCap()
    {
        var stream = new RedisStreamsEventStream(Connection, Trimming(o => o.UngroupedMaxLength = 100));
        await PublishManyAsync(stream, 0, 3_000);

        await stream.TrimAsync();

        (await Db.StreamLengthAsync(StreamKey)).ShouldBeInRange(100, 300); // MAXLEN ~ trims whole macro nodes
    }

    [Fact]
    public async Task AnOperatorTrimsPastAGroupThatIsBehind_TheGroupAndTheFleetFeedCountWhatTheyLost()
    {
        var stream = new RedisStreamsEventStream(Connection, Trimming());
        RedisConsumerGroup consumer = Group(batch: 10);
        await consumer.EnsureGroupAsync();
        var feed = new RedisFleetFeed(Connection, new ImmuneFleetView(), Trimming(o => o.BatchSize = 10), NullLogger<RedisFleetFeed>.Instance);
        await PublishManyAsync(stream, 0, 50);
        (await consumer.ReadOnceAsync()).ShouldBe(10);
        (await feed.ReadOnceAsync()).ShouldBe(10);

        await Db.ExecuteAsync("XTRIM", StreamKey, "MAXLEN", "15"); // exactly: 25 unread entries of each reader go

        while (await consumer.ReadOnceAsync() > 0)
        {
        }

        while (await feed.ReadOnceAsync() > 0)
        {
        }

        (consumer.GetStatus().Lost, consumer.GetStatus().Read).ShouldBe((25L, 25L));
        (feed.GetStatus().Lost, feed.GetStatus().Read).ShouldBe((25L, 25L));
        consumer.GetStatus().Lag.ShouldBe(0);
    }

    [Fact]
    public async Task AnOpenIncidentOlderThanMinRetention_AndRead_StaysForANewFeed_UntilItIsResolved()
    {
        var stream = new RedisStreamsEventStream(Connection, Trimming()); // MinRetention zero: only the group's reading and the open incidents hold entries
        RedisConsumerGroup group = Group();
        await group.EnsureGroupAsync();
        long critical = 0;
        await using var service = new ImmuneService(new RedisStreamsEventStream(Connection, Trimming()), new ImmuneOptions { Source = "checkout", QueueCapacity = 100_000 });
        for (int i = 0; i < 3_000; i++)
        {
            long id = await service.PublishAsync(i == 1_000 ? Critical("disk on fire") : Info($"e{i}"));
            critical = i == 1_000 ? id : critical;
        }

        await service.FlushAsync().WaitAsync(HangGuard);
        await DrainAsync(group);
        var feed = new RedisFleetFeed(Connection, new ImmuneFleetView(), Trimming(), NullLogger<RedisFleetFeed>.Instance);
        await DrainAsync(feed);

        await feed.WriteFloorNowAsync(); // as it does every TrimInterval
        await stream.TrimAsync(); // the group read everything: all but what the open incident needs goes (whole macro nodes: XTRIM MINID ~)
        (await Db.StreamLengthAsync(StreamKey)).ShouldBeInRange(2_000, 2_100);

        async Task<(RedisFleetFeed Feed, IReadOnlyList<ImmuneFleetIncident> Incidents)> RebuiltAsync()
        {
            var view = new ImmuneFleetView();
            var rebuilt = new RedisFleetFeed(Connection, view, Trimming(), NullLogger<RedisFleetFeed>.Instance);
            await DrainAsync(rebuilt);
            return (rebuilt, view.GetIncidents());
        }

        (RedisFleetFeed second, IReadOnlyList<ImmuneFleetIncident> incidents) = await RebuiltAsync();
        incidents.Select(i => (i.EventId, i.Severity, i.Message)).ShouldBe([(critical, ImmuneSeverity.Critical, "disk on fire")]);

        await service.ChangeSeverityAsync(critical, ImmuneSeverity.Info); // resolved: nothing holds the stream back any more
        await service.FlushAsync().WaitAsync(HangGuard);
        await DrainAsync(group);
        foreach (RedisFleetFeed reader in new[] { feed, second }) // each feed holds what its own view needs
        {
            await DrainAsync(reader);
            await reader.WriteFloorNowAsync();
        }

        await stream.TrimAsync();
        (await Db.StreamLengthAsync(StreamKey)).ShouldBeLessThan(200);
        (await RebuiltAsync()).Incidents.ShouldBeEmpty();
    }

    [Fact]
    public async Task AProducerWhoseUserMayNotRunScripts_StillTrims_WithoutTheFloors()
    {
        await using ConnectionMultiplexer producer = await ConnectWithoutScriptsAsync();
        RedisConsumerGroup group = Group();
        await group.EnsureGroupAsync();
        await PublishManyAsync(new RedisStreamsEventStream(producer, Trimming()), 0, 3_000);
        await DrainAsync(group);
        StreamEntry first = (await Db.StreamRangeAsync(StreamKey, count: 1)).ShouldHaveSingleItem();
        await new RedisRetentionFloors(Connection, Trimming()).WriteAsync("a feed", StreamId.Parse(first.Id)); // would hold everything

        await new RedisStreamsEventStream(producer, Trimming()).TrimAsync();

        (await Db.StreamLengthAsync(StreamKey)).ShouldBeLessThan(200); // bounded: the trim went on without the floors it may not read
    }

    [Fact]
    public async Task AFleetFeedWhoseUserMayNotRunScripts_ReadsOn_AndSaysOnceThatItsFloorIsRefused()
    {
        await using ConnectionMultiplexer viewer = await ConnectWithoutScriptsAsync();
        await PublishManyAsync(new RedisStreamsEventStream(Connection, Trimming()), 0, 10);
        var logger = new FakeLogger<RedisFleetFeed>();
        var feed = new RedisFleetFeed(viewer, new ImmuneFleetView(), Trimming(), logger);

        (await feed.ReadOnceAsync()).ShouldBe(10); // the floor's write was refused: the read counts all the same
        await feed.WriteFloorNowAsync();

        feed.GetStatus().LastError.ShouldBeNull();
        FakeLogRecord refused = logger.Collector.GetSnapshot().Where(r => r.Id.Name == "FloorsRefused").ShouldHaveSingleItem();
        (refused.Id.Id, refused.Level).ShouldBe((17, LogLevel.Warning));
        refused.Message.ShouldContain(StreamKey + ":floors");
        refused.Message.ShouldContain("NOPERM");
    }

    [Fact]
    public async Task AFloorItsFeedStoppedWriting_HoldsForKeptFor_ThenGoes()
    {
        var options = Trimming(o => o.TrimInterval = TimeSpan.FromMinutes(1)); // MinRetention zero: kept for six trims
        var floors = new RedisRetentionFloors(Connection, options);
        floors.KeptFor.ShouldBe(TimeSpan.FromMinutes(6));
        await floors.WriteAsync("gone", new StreamId(5, 0));
        await floors.WriteAsync("here", new StreamId(9, 1));
        (await floors.LowestAsync()).ShouldBe(new StreamId(5, 0));
        (await Db.KeyTimeToLiveAsync(floors.Key)).ShouldNotBeNull().ShouldBeInRange(TimeSpan.FromTicks(1), TimeSpan.FromMinutes(6)); // the hash goes once no feed writes

        await Db.HashSetAsync(floors.Key, "gone", "5-0 1"); // as if written long ago by the server's clock
        (await floors.LowestAsync()).ShouldBe(new StreamId(9, 1));
        (await Db.HashExistsAsync(floors.Key, "gone")).ShouldBeFalse(); // removed by the read that found it old

        await Db.HashSetAsync(floors.Key, "also gone", "7-0 1");
        await floors.WriteAsync("here", null); // its view has no open incident any more; a write drops old floors too
        (await Db.HashLengthAsync(floors.Key)).ShouldBe(0);
        (await floors.LowestAsync()).ShouldBeNull();
    }

    /// <summary>Connects as a user of its own that may do anything but run scripts.</summary>
    private async Task<ConnectionMultiplexer> ConnectWithoutScriptsAsync()
    {
        string user = $"no-scripts-{Guid.NewGuid():N}";
        await Db.ExecuteAsync("ACL", "SETUSER", user, "on", ">secret", "~*", "&*", "+@all", "-@scripting");
        ConfigurationOptions limited = RedisStreamsOptions.ConnectionOptions(Server.ConnectionString);
        (limited.User, limited.Password) = (user, "secret");
        return await ConnectionMultiplexer.ConnectAsync(limited);
    }

    private static async Task DrainAsync(ImmuneFeed reader)
    {
        while (await reader.ReadOnceAsync() > 0)
        {
        }
    }
}
