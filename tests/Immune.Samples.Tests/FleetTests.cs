using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

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
        ImmuneStreamConsumer survivor = Consume("survivor", pager), doomed = Consume("doomed", pager);
        await survivor.EnsureGroupAsync();

        await RunAsync(producers, random, steps: 60);
        await survivor.ProcessBatchAsync();
        await doomed.ProcessBatchAsync();

        retired.Add(producers[2]);
        await producers[2].Service.DisposeAsync();
        producers[2] = Produce("payments"); // restarted: event ids start at 1 again, under a new instance id
        await RunAsync(producers, random, steps: 60);
        await RedeliverAsync(random, count: 10); // a producer's retry after a lost acknowledgement: same envelopes again

        // The doomed consumer reads a batch and dies before handling it: the entries stay pending under its name.
        StreamEntry[] held = await Db.StreamReadGroupAsync(StreamKey, "immune-consumers", "doomed", StreamPosition.NewMessages, 25);
        held.Length.ShouldBe(25);
        await RunAsync(producers, random, steps: 40);
        while (await survivor.ProcessBatchAsync() > 0)
        {
        }

        var fleet = new ImmuneFleetView(timeProvider: _time);
        var feed = new ImmuneFleetFeed(Connection, fleet, Options("feed"), NullLogger<ImmuneFleetFeed>.Instance);
        while (await feed.ReadBatchAsync() > 0)
        {
        }

        (await Db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
        Producer[] all = [.. producers, .. retired];
        PagerShouldEndInTheProducersState(pager, all);
        foreach (TimeSpan window in new[] { TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10), TimeSpan.MaxValue })
        {
            ShouldMatch(fleet.GetHealthSummary(window), all.Select(p => (p.Source, p.Service.GetHealthSummary(window))).ToList());
        }
    }

    [Fact]
    public async Task ConsumerHost_FleetHealth_ServesTheFleetSummaryInSnakeCase()
    {
        await using WebApplicationFactory<ImmuneFleetFeed> host = new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Redis", Server.ConnectionString)
            .UseSetting("Immune:StreamKey", StreamKey)
            .ConfigureTestServices(services => services.AddSingleton<TimeProvider>(_time)));
        using HttpClient client = host.CreateClient();
        Producer checkout = Produce("checkout"), payments = Produce("payments");
        await checkout.Service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
        await checkout.Service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, "healed"));
        await payments.Service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "slow"));

        // The host's feed reads the stream in the background: ask until it has read all three, or give up.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        JsonElement health;
        do
        {
            health = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health?minutes=60", guard.Token);
        }
        while (health.GetProperty("active_issues").GetInt32() < 3);

        health.GetProperty("status").GetString().ShouldBe("CRITICAL");
        health.GetProperty("critical_issues").GetInt32().ShouldBe(1);
        health.GetProperty("counts_by_severity").GetRawText().ShouldBe("""{"INFO":1,"WARNING":1,"CRITICAL":1}""");
        health.GetProperty("counts_by_type").GetRawText().ShouldBe("""{"POLICY_VIOLATION":1,"ERROR_SPIKE":1,"SELF_HEALING_ACTION":1}""");
        health.GetProperty("window_minutes").GetDouble().ShouldBe(60);
        health.GetProperty("sources").GetRawText().ShouldBe(
            """[{"source":"checkout","status":"CRITICAL","active_issues":2,"critical_issues":1,"instances":1},"""
            + """{"source":"payments","status":"DEGRADED","active_issues":1,"critical_issues":0,"instances":1}]""");
        HttpResponseMessage bad = await client.GetAsync("/api/immune/fleet/health?minutes=-1");
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).ShouldContain("minutes must be a number from 0");
        HttpResponseMessage word = await client.GetAsync("/api/immune/fleet/health?minutes=abc");
        word.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        JsonElement problem = await word.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("detail").GetString().ShouldBe($"minutes must be a number from 0 to {HttpProblemsMaxMinutes} (was \"abc\").");

        JsonElement incidents = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/incidents?minutes=60&max=10", guard.Token);
        incidents.EnumerateArray().Select(i => (i.GetProperty("source").GetString(), i.GetProperty("severity").GetString(), i.GetProperty("message").GetString()))
            .ShouldBe([("checkout", "CRITICAL", "breach"), ("payments", "WARNING", "slow")]); // the INFO event is no incident
        incidents[0].GetProperty("instance_id").GetString().ShouldBe(checkout.Service.InstanceId);
        incidents[0].GetProperty("event_id").GetInt64().ShouldBe(1);
        incidents[0].GetProperty("type").GetString().ShouldBe("POLICY_VIOLATION");
        incidents[0].GetProperty("occurrences").GetInt64().ShouldBe(1);
        (await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/incidents?max=1", guard.Token)).GetArrayLength().ShouldBe(1);
        foreach (string query in new[] { "max=0", "max=10001", "max=abc", "max=1.5", "max=-3", "minutes=-1" })
        {
            HttpResponseMessage refused = await client.GetAsync($"/api/immune/fleet/incidents?{query}");
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, query);
            (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
        }

        await checkout.Service.DisposeAsync();
        await payments.Service.DisposeAsync();
    }

    private const string HttpProblemsMaxMinutes = "52,596,000";

    private IDatabase Db => Connection.GetDatabase();

    private Producer Produce(string source)
    {
        var options = new ImmuneOptions { Source = source, Delivery = ImmuneDelivery.Inline }; // inline: nothing in flight when the test moves the clock
        return new Producer(source, new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey }), options, timeProvider: _time));
    }

    private ImmuneStreamConsumerOptions Options(string name)
        => new() { StreamKey = StreamKey, DeadLetterKey = StreamKey + ":dead", ConsumerName = name, ReclaimAfter = TimeSpan.Zero, BatchSize = 9 };

    private ImmuneStreamConsumer Consume(string name, IOnCallPager pager)
        => new(Connection, pager, Options(name), NullLogger<ImmuneStreamConsumer>.Instance);

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
