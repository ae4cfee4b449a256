using System.Text;
using Immune.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Immune.Nats.Tests;

/// <summary>
/// Sharding by source (<see cref="NatsJetStreamOptions.Shards"/>): the documented hash, the names it gives, and on a real
/// nats-server each envelope in its source's shard's stream, read whole by the fleet feed and paged once by the group.
/// </summary>
public sealed class ShardingTests : NatsTest
{
    /// <summary>The documented hash, written from its description: FNV-1a, 32 bits, over the UTF-8 bytes.</summary>
    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619;
        }

        return hash;
    }

    [Theory]
    [InlineData("", 0x811C9DC5u)]
    [InlineData("a", 0xE40C292Cu)]
    [InlineData("foobar", 0xBF9CF968u)]
    public void ShardOf_PublishedFnv1aVectors(string source, uint fnv)
    {
        foreach (int shards in new[] { 2, 3, 4, 7, 1024 })
        {
            new NatsJetStreamOptions { Shards = shards }.ShardOf(source).ShouldBe((int)(fnv % (uint)shards), $"{shards} shards");
        }
    }

    [Fact]
    public void ShardOf_AnySource_IsTheDocumentedHashModuloTheShards_OneShardIsAlwaysZero()
    {
        var random = new Random(32);
        for (int i = 0; i < 2_000; i++)
        {
            int length = random.Next(i % 10 == 0 ? 400 : 40); // long sources too: past the stack buffer
            string source = new([.. Enumerable.Range(0, length).Select(_ => (char)(random.Next(4) == 0 ? random.Next(0x80, 0xD7FF) : random.Next(0x20, 0x7F)))]);
            int shards = random.Next(1, 1025);
            new NatsJetStreamOptions { Shards = shards }.ShardOf(source).ShouldBe((int)(Fnv1a(source) % (uint)shards), source);
            new NatsJetStreamOptions().ShardOf(source).ShouldBe(0);
        }

        Should.Throw<ArgumentNullException>(() => new NatsJetStreamOptions { Shards = 4 }.ShardOf(null!));
    }

    [Fact]
    public void Names_OneShardKeepsTheUnshardedNames_SeveralGiveAStreamAndASubjectPerShard()
    {
        EventEnvelope envelope = Envelopes.Published("a", "i", 1, ImmuneSeverity.Info, DateTimeOffset.UnixEpoch);
        var one = new NatsJetStreamOptions();
        (one.StreamNameOf(0), one.SubjectOf(envelope), one.SubjectOf(envelope.Type)).ShouldBe(("IMMUNE", $"immune.events.{envelope.Type}", $"immune.events.{envelope.Type}"));

        var four = new NatsJetStreamOptions { Shards = 4 };
        four.StreamNameOf(3).ShouldBe("IMMUNE_3");
        four.SubjectOf(envelope).ShouldBe($"immune.events.{four.ShardOf("a")}.{envelope.Type}");
        NatsJetStreamEventStream.StreamConfig(four, 2).Subjects.ShouldBe(["immune.events.2.>"]);
        NatsConsumerGroup.ConsumerConfig(four, 2).FilterSubject.ShouldBe("immune.events.2.>");
        Should.Throw<InvalidOperationException>(() => four.SubjectOf(envelope.Type)).Message.ShouldContain("SubjectOf(EventEnvelope)");
        Should.Throw<ArgumentOutOfRangeException>(() => four.StreamNameOf(4));
        Should.Throw<ArgumentOutOfRangeException>(() => four.StreamNameOf(-1));
        Should.Throw<ArgumentOutOfRangeException>(() => NatsJetStreamEventStream.StreamConfig(one, 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void Shards_OutOfRange_RefusedByName(int shards)
        => Should.Throw<ArgumentException>(() => new NatsJetStreamEventStream(Connection, Options(o => o.Shards = shards))).Message.ShouldContain("Shards");

    [Fact]
    public async Task AShardsStreamGone_TheFeedAndTheGroupStillReadEveryOtherShard_AndSayWhichFailed()
    {
        NatsJetStreamOptions options = Options(o => o.Shards = 4);
        string[] sources = [.. Enumerable.Range(0, 12).Select(i => $"service-{i}")];
        foreach (string source in sources)
        {
            await ProduceAsync(source, service => service.PublishAsync(Critical(source)).AsTask(), o => o.Shards = 4);
        }

        int gone = options.ShardOf(sources[0]);
        var pager = new RecordingPager();
        var group = new NatsConsumerGroup(Connection, new ImmunePaging(pager, new NatsPagerLedger(Connection, options)), options, NullLogger<NatsConsumerGroup>.Instance);
        await group.EnsureConsumerAsync();
        await new NatsJSContext(Connection).DeleteStreamAsync(options.StreamNameOf(gone));

        var fleet = new ImmuneFleetView();
        var feed = new NatsFleetFeed(Connection, fleet, options, NullLogger<NatsFleetFeed>.Instance);
        (await Should.ThrowAsync<NatsJSApiException>(() => feed.ReadOnceAsync())).Message.ShouldContain("not found");
        string[] others = [.. sources.Where(s => options.ShardOf(s) != gone)];
        fleet.GetHealthSummary(TimeSpan.FromHours(1)).Sources.Select(s => s.Source).ShouldBe(others, ignoreOrder: true);

        (await Should.ThrowAsync<NatsJSApiException>(() => group.ReadOnceAsync())).Message.ShouldContain("not found");
        pager.Sent.Count.ShouldBe(others.Length);
    }

    [Fact]
    public async Task FourShards_EachEnvelopeInItsSourcesShard_TheFeedReadsThemAll_TheGroupPagesEachCriticalOnce()
    {
        NatsJetStreamOptions options = Options(o => o.Shards = 4);
        string[] sources = [.. Enumerable.Range(0, 12).Select(i => $"service-{i}")];
        var criticalKeys = new List<string>();
        foreach (string source in sources)
        {
            long critical = 0;
            string instance = await ProduceAsync(source, async service =>
            {
                for (int i = 0; i < 10; i++)
                {
                    long id = await service.PublishAsync(i == 4 ? Critical($"{source} {i}") : Info($"{source} {i}"));
                    critical = i == 4 ? id : critical;
                }
            }, o => o.Shards = 4);
            criticalKeys.Add($"immune_critical_{source}_{instance}_{critical}");
        }

        var js = new NatsJSContext(Connection);
        long total = 0;
        for (int shard = 0; shard < 4; shard++)
        {
            INatsJSStream stream = await js.GetStreamAsync(options.StreamNameOf(shard));
            total += stream.Info.State.Messages;
            INatsJSConsumer reader = await js.CreateOrderedConsumerAsync(options.StreamNameOf(shard));
            await foreach (NatsJSMsg<byte[]> message in reader.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 1_000 }, NatsRawSerializer<byte[]>.Default))
            {
                EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(message.Data!);
                options.ShardOf(envelope.Source).ShouldBe(shard, envelope.Source);
                message.Subject.ShouldBe(options.SubjectOf(envelope));
            }
        }

        total.ShouldBe(12 * 11); // ten events and one critical envelope each
        sources.Select(options.ShardOf).Distinct().Count().ShouldBeGreaterThan(1);

        var fleet = new ImmuneFleetView();
        var feed = new NatsFleetFeed(Connection, fleet, Options(o => { o.Shards = 4; o.BatchSize = 16; }), NullLogger<NatsFleetFeed>.Instance);
        while (await feed.ReadOnceAsync() > 0)
        {
        }

        ImmuneFleetSummary summary = fleet.GetHealthSummary(TimeSpan.FromHours(1));
        (summary.CountsBySeverity[ImmuneSeverity.Info], summary.CriticalIssues, summary.Sources.Count).ShouldBe((12 * 9, 12, 12));
        (feed.GetStatus().Lag, feed.GetStatus().Lost).ShouldBe((0L, 0L));

        var pager = new RecordingPager();
        var group = new NatsConsumerGroup(Connection, new ImmunePaging(pager, new NatsPagerLedger(Connection, options)), Options(o => { o.Shards = 4; o.BatchSize = 16; }), NullLogger<NatsConsumerGroup>.Instance);
        while (await group.ReadOnceAsync() > 0)
        {
        }

        pager.Sent.Select(s => s.Key).ShouldBe(criticalKeys, ignoreOrder: true);
        (group.GetStatus().Pending, group.GetStatus().Lag).ShouldBe((0L, 0L));
    }
}
