using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

/// <summary>
/// What Prometheus and Grafana see: a real scrape of the consumer's and the producer's <c>/metrics</c>, the example alert
/// rules and dashboard checked by <c>promtool</c> (Debian's <c>prometheus</c> package, installed by test.sh) and held
/// to the series the scrapes really have, and the page, its JSON and <c>/metrics</c> behind authorization when asked.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed partial class ObservabilityTests(RedisFixture redis) : RedisStreamTest(redis)
{

    private readonly string _checkout = $"checkout-{Guid.NewGuid():N}";
    private readonly string _payments = $"payments-{Guid.NewGuid():N}";

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"\b(immune_[a-z_]+)\b")]
    private static partial Regex ImmuneSeries();

    [Fact]
    public async Task Scrapes_ConsumerAndProducer_ServeTheFleetAndTheirOwnSeriesInPrometheusText()
    {
        string consumerText = await ScrapeConsumerAsync();
        string producerText = await ScrapeProducerAsync();

        // The fleet gauges carry this test's own sources: exact. OpenTelemetry listens to a meter by name across the
        // process, and other tests run consumer hosts and services beside this one, so the counters, whose labels do
        // not name a source, count at least this test's share.
        Value(consumerText, "immune_fleet_open_incidents", $"source=\"{_checkout}\",severity=\"critical\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_open_incidents", $"source=\"{_payments}\",severity=\"warning\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_active_issues", $"source=\"{_checkout}\"").ShouldBe(2);
        Value(consumerText, "immune_fleet_critical_issues", $"source=\"{_checkout}\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_instances", $"source=\"{_checkout}\"").ShouldBe(1);
        Value(consumerText, "immune_consumer_envelopes_total", """type="immune.critical_event" """).ShouldBeGreaterThanOrEqualTo(1);
        Value(consumerText, "immune_consumer_envelopes_total", """type="immune.event_published" """).ShouldBeGreaterThanOrEqualTo(3);
        Value(consumerText, "immune_consumer_pages_total", """action="trigger" """).ShouldBeGreaterThanOrEqualTo(1);
        Value(consumerText, "immune_consumer_dead_lettered_total", string.Empty).ShouldBeGreaterThanOrEqualTo(1);

        Value(producerText, "immune_events_recorded_total", """severity="critical",type="policy_violation" """).ShouldBeGreaterThanOrEqualTo(1);
        Series(producerText).ShouldContain("immune_queue_oldest_age_seconds");
        Series(producerText).ShouldContain("immune_envelopes_delivered_total");

        // Every series EVENTS.md names is really there (or, for a counter of Immune's that counted nothing yet, its instrument is).
        string catalog = await File.ReadAllTextAsync(Path.Combine(Repository.Root(), "EVENTS.md"));
        string table = catalog[catalog.IndexOf("## Prometheus series", StringComparison.Ordinal)..];
        string[] documented = [.. ImmuneSeries().Matches(table).Select(m => m.Groups[1].Value).Where(n => !n.EndsWith('_')).Distinct()];
        documented.ShouldNotBeEmpty();
        string[] served = [.. Series(consumerText), .. Series(producerText), .. ImmuneInstrumentSeries()];
        documented.Where(d => !served.Any(s => s == d || s.StartsWith(d + "_", StringComparison.Ordinal))).ShouldBeEmpty("documented but not served");
    }

    [Fact]
    public async Task ExampleRulesAndDashboard_PassPromtoolAndUseOnlyServedSeries()
    {
        string root = Repository.Root();
        string rules = Path.Combine(root, "samples", "observability", "prometheus-alerts.yml");
        (await PromtoolAsync("check", "rules", rules)).ShouldContain("SUCCESS: 2 rules found");

        using JsonDocument dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root, "samples", "observability", "grafana-dashboard.json")));
        dashboard.RootElement.GetProperty("title").GetString().ShouldBe("Immune fleet");
        string[] expressions = [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!)];
        expressions.Length.ShouldBeGreaterThanOrEqualTo(10);

        // promtool checks PromQL in rule files: give it each panel's query as a recording rule.
        string asRules = Path.Combine(Path.GetTempPath(), $"immune-dashboard-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(asRules, "groups:\n  - name: dashboard\n    rules:\n"
            + string.Concat(expressions.Select((e, i) => $"      - record: immune:dashboard:{i}\n        expr: {JsonSerializer.Serialize(e)}\n")));
        try
        {
            (await PromtoolAsync("check", "rules", asRules)).ShouldContain($"SUCCESS: {expressions.Length} rules found");
        }
        finally
        {
            File.Delete(asRules);
        }

        // Served, or an instrument of Immune's meter that has not been measured yet (a counter of drops or failures
        // appears in a scrape only once something was dropped or failed).
        string[] served = [.. Series(await ScrapeConsumerAsync()), .. Series(await ScrapeProducerAsync()), .. ImmuneInstrumentSeries()];
        string[] used = [.. expressions.Append(await File.ReadAllTextAsync(rules)).SelectMany(e => ImmuneSeries().Matches(e).Select(m => m.Groups[1].Value))
            .Where(n => !n.StartsWith("immune_dashboard", StringComparison.Ordinal)).Distinct()];
        used.Where(u => !served.Contains(u)).ShouldBeEmpty("queried but never served");
    }

    [Fact]
    public async Task RequireAuthorization_On_RefusesThePageItsJsonAndMetricsWithout401_HealthzStaysOpen()
    {
        await using WebApplicationFactory<ImmuneFleetFeed> host = ConsumerHost(secured: true);
        HttpClient client = host.CreateClient();

        foreach (string path in new[] { "/", "/dashboard.js", "/api/immune/fleet/health", "/api/immune/fleet/incidents", "/api/immune/fleet/rate", "/metrics" })
        {
            (await client.GetAsync(path)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
        }

        (await client.GetAsync("/healthz")).StatusCode.ShouldNotBe(HttpStatusCode.Unauthorized);

        await using WebApplicationFactory<ImmuneFleetFeed> open = ConsumerHost(secured: false);
        (await open.CreateClient().GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.OK); // off by default
    }

    private async Task<string> ScrapeConsumerAsync()
    {
        await using var producer = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey }), new ImmuneOptions { Source = _checkout });
        await using var payments = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey }), new ImmuneOptions { Source = _payments });
        if (await Connection.GetDatabase().StreamLengthAsync(StreamKey) == 0)
        {
            await producer.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
            await producer.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, "healed"));
            await payments.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "slow"));
            await producer.FlushAsync();
            await payments.FlushAsync();
            await Connection.GetDatabase().StreamAddAsync(StreamKey, "envelope", "not json"); // dead-lettered by the group's consumer
        }

        await using WebApplicationFactory<ImmuneFleetFeed> host = ConsumerHost(secured: false);
        HttpClient client = host.CreateClient();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        string text;
        do
        {
            await Task.Yield();
            text = await client.GetStringAsync("/metrics", guard.Token);
        }
        while (!(text.Contains("immune_consumer_dead_lettered_total", StringComparison.Ordinal)
            && text.Contains("immune_consumer_pages_total", StringComparison.Ordinal)
            && Sample().Matches(text).Any(m => m.Groups["name"].Value == "immune_fleet_active_issues" // this host's feed read all of this test's events
                && m.Groups["labels"].Value.Contains($"source=\"{_checkout}\"", StringComparison.Ordinal) && m.Groups["value"].Value == "2")
            && text.Contains($"source=\"{_payments}\"", StringComparison.Ordinal)));

        return text;
    }

    private static async Task<string> ScrapeProducerAsync()
    {
        await using var api = new WebApplicationFactory<Program>();
        HttpClient client = api.CreateClient();
        var post = await client.PostAsync("/api/immune/event", new StringContent(
            """{"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reused"}""", new MediaTypeHeaderValue("application/json")));
        post.EnsureSuccessStatusCode();
        HttpResponseMessage scrape = await client.GetAsync("/metrics");
        scrape.StatusCode.ShouldBe(HttpStatusCode.OK);
        scrape.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return await scrape.Content.ReadAsStringAsync();
    }

    private WebApplicationFactory<ImmuneFleetFeed> ConsumerHost(bool secured)
        => new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Redis", Server.ConnectionString)
            .UseSetting("Immune:StreamKey", StreamKey)
            .UseSetting("Immune:ConsumerName", $"c-{Guid.NewGuid():N}")
            .UseSetting("Immune:RequireAuthorization", secured ? "true" : "false"));

    /// <summary>The Prometheus names of every instrument of the <c>Immune</c> meter, measured or not: dots become underscores, counters end in <c>_total</c>, seconds in <c>_seconds</c>.</summary>
    private static string[] ImmuneInstrumentSeries()
    {
        var names = new List<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name != "Immune") return;
                string name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : string.Empty);
                names.Add(instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal) ? name + "_total" : name);
            },
        };
        listener.Start();
        using var service = new ImmuneService(new InMemoryEventStream());
        return [.. names];
    }

    private static string[] Series(string text) => [.. Sample().Matches(text).Select(m => m.Groups["name"].Value).Distinct()];

    /// <summary>The value of the one sample of <paramref name="name"/> that has every label of <paramref name="labels"/>, in any order.</summary>
    private static double Value(string text, string name, string labels)
    {
        string[] wanted = labels.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries);
        Match[] matches = [.. Sample().Matches(text).Where(m => m.Groups["name"].Value == name
            && wanted.All(label => m.Groups["labels"].Value.Split(',').Contains(label)))];
        matches.Length.ShouldBe(1, $"{name}{{{labels}}} in:\n{text}");
        return double.Parse(matches[0].Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> PromtoolAsync(params string[] args)
    {
        string promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("promtool is missing: apt-get install -y prometheus (test.sh does it).");
        var start = new ProcessStartInfo(promtool, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        process.ExitCode.ShouldBe(0, output);
        return output;
    }
}
