using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary><see cref="RedisFleetFeed"/> on a real redis-server: the view gets every envelope once, from the stream's start.</summary>
[Collection(nameof(RedisCollection))]
public sealed class RedisFleetFeedTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private RedisFleetFeed Feed(ImmuneFleetView view, int batch = 16)
        => new(Connection, view, Options(o => o.BatchSize = batch), NullLogger<RedisFleetFeed>.Instance);

    private static async Task DrainAsync(RedisFleetFeed feed)
    {
        while (await feed.ReadOnceAsync() > 0)
        {
        }
    }

    [Fact]
    public async Task TwoSourcesAndADuplicateAndGarbage_TheViewCountsEachEventOnce()
    {
        string checkout = await PublishAsync(Critical("a"), Info("b"));
        await using (var payments = new ImmuneService(new RedisStreamsEventStream(Connection, Options()), new ImmuneOptions { Source = "payments" }))
        {
            await payments.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "c"));
            await payments.FlushAsync().WaitAsync(HangGuard);
        }

        StreamEntry first = (await Db.StreamRangeAsync(StreamKey))[0];
        await Db.StreamAddAsync(StreamKey, first.Values); // a duplicate from a retry
        await Db.StreamAddAsync(StreamKey, [new NameValueEntry("envelope", "{not json")]);
        var view = new ImmuneFleetView();
        RedisFleetFeed feed = Feed(view, batch: 2);

        await DrainAsync(feed);

        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.MaxValue);
        (summary.ActiveIssues, summary.CriticalIssues, summary.Status).ShouldBe((3, 1, ImmuneHealthStatus.Critical));
        summary.Sources.Select(s => (s.Source, s.ActiveIssues, s.Instances)).ShouldBe([("immune_service", 2, 1), ("payments", 1, 1)]);
        ImmuneFeedStatus status = feed.GetStatus();
        (status.Read, status.Lag, status.Lost).ShouldBe((6L, 0L, 0L));
        status.LastReadAt.ShouldNotBeNull();
        checkout.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task ANewFeed_RebuildsTheViewFromTheStreamsStart()
    {
        await PublishAsync(Critical("still open"));
        var before = new ImmuneFleetView();
        await DrainAsync(Feed(before));

        var after = new ImmuneFleetView(); // the consumer restarted
        await DrainAsync(Feed(after));

        after.GetIncidents().ShouldBe(before.GetIncidents());
        after.GetIncidents().ShouldHaveSingleItem().Message.ShouldBe("still open");
    }
}
