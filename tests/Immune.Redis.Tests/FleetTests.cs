using Immune.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary>
/// A fleet on a real <c>redis-server</c>: three producer instances (two of one source, one restarted midway) write one
/// stream; a consumer group of two pages, one of them dying with entries pending; a feed folds the stream into the
/// fleet view. The producers' own records are the truth the consumers' results are held to.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class FleetTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Fleet_ProducersRestartAndAConsumerDies_PagerEndsInEachEventsStateAndSummaryEqualsTheRecords(int seed)
    {
        var random = new Random(seed);
        var producers = new List<Producer> { Produce("checkout"), Produce("checkout"), Produce("payments") };
        var retired = new List<Producer>();
        var pager = new RecordingPager();
        RedisConsumerGroup survivor = Consume("survivor", pager), doomed = Consume("doomed", pager);
        await survivor.EnsureGroupAsync();

        await RunAsync(producers, random, steps: 60);
        await survivor.ReadOnceAsync();
        await doomed.ReadOnceAsync();

        retired.Add(producers[2]);
        await producers[2].Service.DisposeAsync();
        producers[2] = Produce("payments"); // restarted: event ids start at 1 again, under a new instance id
        await RunAsync(producers, random, steps: 60);
        await RedeliverAsync(random, count: 10); // a producer's retry after a lost acknowledgement: same envelopes again

        // The doomed consumer reads a batch and dies before handling it: the entries stay pending under its name until
        // the survivor reclaims them (after ReclaimAfter, on the server's clock).
        StreamEntry[] held = await Db.StreamReadGroupAsync(StreamKey, "immune-consumers", "doomed", StreamPosition.NewMessages, 25);
        held.Length.ShouldBe(25);
        await RunAsync(producers, random, steps: 40);
        using var guard = new CancellationTokenSource(HangGuard);
        while ((await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount > 0 || await survivor.ReadOnceAsync(guard.Token) > 0)
        {
            await survivor.ReadOnceAsync(guard.Token);
        }

        var fleet = new ImmuneFleetView(timeProvider: _time);
        var feed = new RedisFleetFeed(Connection, fleet, Options(), NullLogger<RedisFleetFeed>.Instance);
        while (await feed.ReadOnceAsync() > 0)
        {
        }

        Producer[] all = [.. producers, .. retired];
        PagerShouldEndInTheProducersState(pager, all);
        foreach (TimeSpan window in new[] { TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10), TimeSpan.MaxValue })
        {
            ShouldMatch(fleet.GetHealthSummary(window), all.Select(p => (p.Source, p.Service.GetHealthSummary(window))).ToList());
        }
    }

    private Producer Produce(string source)
    {
        var options = new ImmuneOptions { Source = source, Delivery = ImmuneDelivery.Inline }; // inline: nothing in flight when the test moves the clock
        return new Producer(source, new ImmuneService(new RedisStreamsEventStream(Connection, Options()), options, timeProvider: _time));
    }

    private RedisConsumerGroup Consume(string name, RecordingPager pager)
        => new(Connection, new ImmunePaging(pager, new RedisPagerLedger(Connection, Options())),
            Options(o => { o.ConsumerName = name; o.ReclaimAfter = TimeSpan.FromSeconds(1); o.BatchSize = 9; }), NullLogger<RedisConsumerGroup>.Instance);

    /// <summary>Random publishes, escalations and resolutions across the producers, on a clock that moves between them.</summary>
    private async Task RunAsync(List<Producer> producers, Random random, int steps)
    {
        for (int step = 0; step < steps; step++)
        {
            Producer producer = producers[random.Next(producers.Count)];
            IReadOnlyList<ImmuneEvent> recent = producer.Service.GetRecentEvents(TimeSpan.MaxValue);
            if (recent.Count > 0 && random.Next(3) == 0)
            {
                ImmuneEvent target = recent[random.Next(recent.Count)];
                ImmuneSeverity severity = target.Severity == ImmuneSeverity.Critical ? (ImmuneSeverity)random.Next(2) : ImmuneSeverity.Critical;
                (await producer.Service.ChangeSeverityAsync(target.Id, severity)).ShouldBeTrue();
                if (severity == ImmuneSeverity.Critical) producer.Escalated(target.Id);
                _time.Advance(TimeSpan.FromMilliseconds(1)); // never two changes of one event within the wire's millisecond
            }
            else
            {
                var severity = (ImmuneSeverity)random.Next(3);
                long id = await producer.Service.PublishAsync(new NewImmuneEvent(severity, (ImmuneEventType)random.Next(3), $"step {step}"));
                if (severity == ImmuneSeverity.Critical) producer.Escalated(id);
            }

            _time.Advance(TimeSpan.FromSeconds(random.Next(0, 20)));
        }
    }

    private async Task RedeliverAsync(Random random, int count)
    {
        StreamEntry[] written = await Db.StreamRangeAsync(StreamKey);
        for (int i = 0; i < count; i++)
        {
            StreamEntry entry = written[random.Next(written.Length)];
            await Db.StreamAddAsync(StreamKey, entry.Values);
        }
    }

    /// <summary>
    /// What the pager got: no envelope twice, each key's actions in the event's time order, at most one trigger per
    /// escalation, and per event the state the producer left it in (its last action a trigger exactly when it is
    /// CRITICAL). An escalation the group handled after a later action of its event was superseded, not sent.
    /// </summary>
    private static void PagerShouldEndInTheProducersState(RecordingPager pager, Producer[] producers)
    {
        pager.Sent.Select(s => s.EnvelopeId).ShouldBeUnique();
        string[] escalations = [.. producers.SelectMany(p => p.Escalations)];
        foreach (IGrouping<string, RecordingPager.Action> key in pager.Sent.GroupBy(s => s.Key))
        {
            key.Select(s => s.At).ShouldBe(key.Select(s => s.At).Order(), $"{key.Key}: out of time order");
            key.Select(s => s.At).ShouldBeUnique();
            key.Count(s => s.Name == "trigger").ShouldBeLessThanOrEqualTo(escalations.Count(e => e == key.Key), key.Key);
        }

        pager.Sent.Count(s => s.Name == "trigger").ShouldBeGreaterThan(escalations.Distinct().Count()); // re-escalations paged again
        foreach (Producer producer in producers)
        {
            foreach (ImmuneEvent e in producer.Service.GetRecentEvents(TimeSpan.MaxValue))
            {
                RecordingPager.Action[] mine = [.. pager.Sent.Where(s => s.Key == producer.Key(e.Id))];
                if (e.Severity == ImmuneSeverity.Critical)
                {
                    mine.ShouldNotBeEmpty(producer.Key(e.Id));
                    mine[^1].Name.ShouldBe("trigger", producer.Key(e.Id));
                }
                else if (mine.Length > 0)
                {
                    mine[^1].Name.ShouldBe("resolve", producer.Key(e.Id));
                }
            }
        }
    }

    private static void ShouldMatch(ImmuneFleetSummary summary, List<(string Source, ImmuneHealthSummary Record)> records)
    {
        summary.ActiveIssues.ShouldBe(records.Sum(r => r.Record.ActiveIssues), $"window {summary.Window}");
        summary.CriticalIssues.ShouldBe(records.Sum(r => r.Record.CriticalIssues));
        foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
        {
            summary.CountsBySeverity[severity].ShouldBe(records.Sum(r => r.Record.CountsBySeverity[severity]));
        }

        foreach (ImmuneEventType type in Enum.GetValues<ImmuneEventType>())
        {
            summary.CountsByType[type].ShouldBe(records.Sum(r => r.Record.CountsByType[type]));
        }

        var expected = records.GroupBy(r => r.Source)
            .Where(g => g.Sum(r => r.Record.ActiveIssues) > 0)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Sum(r => r.Record.ActiveIssues), g.Sum(r => r.Record.CriticalIssues), g.Count(r => r.Record.ActiveIssues > 0)));
        summary.Sources.Select(s => (s.Source, s.ActiveIssues, s.CriticalIssues, s.Instances)).ShouldBe(expected, $"window {summary.Window}");
    }

    /// <summary>One producer instance and the dedup keys of the pages it should cause: one per escalation to CRITICAL.</summary>
    private sealed class Producer(string source, ImmuneService service)
    {
        public string Source { get; } = source;

        public ImmuneService Service { get; } = service;

        public List<string> Escalations { get; } = [];

        public void Escalated(long eventId) => Escalations.Add(Key(eventId));

        public string Key(long eventId) => $"immune_critical_{Source}_{Service.InstanceId}_{eventId}";
    }
}
