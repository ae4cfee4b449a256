using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Immune.Samples.Consumer;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Immune.Samples.Tests;

/// <summary>
/// What Prometheus and Grafana see: real scrapes of consumer hosts (each its own process, as Prometheus scrapes them)
/// and of a producer; the example alert rules and dashboard checked by <c>promtool</c> (Debian's <c>prometheus</c>
/// package, installed by test.sh) and held to the series the scrapes really have; the rules tested on two scraped hosts,
/// which must not make one incident two; and a scrape at 10,000 sources that stays small and still names the CRITICAL
/// source seen last.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed partial class ObservabilityTests(RedisFixture redis, ITestOutputHelper output) : RedisStreamTest(redis)
{
    private readonly string _checkout = $"checkout-{Guid.NewGuid():N}";
    private readonly string _payments = $"payments-{Guid.NewGuid():N}";

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"\b(immune_[a-z_]+)\b")]
    private static partial Regex ImmuneSeries();

    [Fact]
    public async Task Scrapes_ConsumerAndProducer_ServeTheFleetAndTheirOwnSeries_EveryDocumentedSeries()
    {
        await PublishFleetAsync();
        await using ConsumerProcess consumer = await StartConsumerAsync();
        string consumerText = await ScrapeWhenReadAsync(consumer, incidents: 2);
        string producerText = await ScrapeProducerAsync();

        Value(consumerText, "immune_fleet_source_open_incidents", $"source=\"{_checkout}\",severity=\"critical\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_source_open_incidents", $"source=\"{_payments}\",severity=\"warning\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_open_incidents", "severity=\"critical\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_events", "severity=\"info\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_sources", string.Empty).ShouldBe(2);
        Value(consumerText, "immune_fleet_pages_total", "result=\"sent\"").ShouldBe(1);
        Value(consumerText, "immune_fleet_pager_failing", string.Empty).ShouldBe(0);
        Sample().Matches(consumerText).Count(m => m.Groups["name"].Value == "immune_fleet_feed_last_read_age_seconds").ShouldBe(2); // the fleet feed and the group

        Value(producerText, "immune_events_recorded_total", """severity="critical",type="policy_violation" """).ShouldBeGreaterThanOrEqualTo(1);
        Series(producerText).ShouldContain("immune_queue_oldest_age_seconds");

        // Every series EVENTS.md names is really there (or, for a counter that counted nothing yet, its instrument is).
        string catalog = await File.ReadAllTextAsync(Path.Combine(Repository.Root(), "EVENTS.md"));
        string table = catalog[catalog.IndexOf("## Prometheus series", StringComparison.Ordinal)..];
        string[] documented = [.. ImmuneSeries().Matches(table).Select(m => m.Groups[1].Value).Where(n => !n.EndsWith('_')).Distinct()];
        documented.ShouldContain("immune_fleet_source_open_incidents");
        string[] served = [.. Series(consumerText), .. Series(producerText), .. InstrumentSeries()];
        documented.Where(d => !served.Any(s => s == d || s.StartsWith(d + "_", StringComparison.Ordinal))).ShouldBeEmpty("documented but not served");
    }

    [Fact]
    public async Task ExampleRulesAndDashboard_PassPromtool_UseOnlyServedSeries_AndAggregateFleetGaugesWithMax()
    {
        string root = Repository.Root();
        string rules = Path.Combine(root, "samples", "observability", "prometheus-alerts.yml");
        (await PromtoolAsync("check", "rules", rules)).ShouldContain("SUCCESS: 4 rules found");

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

        // Every host sees the whole fleet: its state is never summed across hosts (only their own work, such as pages).
        string[] all = [.. expressions, await File.ReadAllTextAsync(rules)];
        all.Where(e => Regex.IsMatch(e, @"\bsum\s*(by\s*\([^)]*\)\s*)?\(\s*immune_fleet_(open_incidents|source_open_incidents|events|sources|feed_lag|feed_last_read_age_seconds|pager_failing)\b")).ShouldBeEmpty();

        await PublishFleetAsync();
        await using ConsumerProcess consumer = await StartConsumerAsync();
        string[] served = [.. Series(await ScrapeWhenReadAsync(consumer, incidents: 2)), .. Series(await ScrapeProducerAsync()), .. InstrumentSeries()];
        string[] used = [.. all.SelectMany(e => ImmuneSeries().Matches(e).Select(m => m.Groups[1].Value))
            .Where(n => !n.StartsWith("immune_dashboard", StringComparison.Ordinal)).Distinct()];
        used.Where(u => !served.Contains(u)).ShouldBeEmpty("queried but never served");
    }

    [Fact]
    public async Task AlertRules_TwoConsumerHostsScraped_OneAlertPerCriticalSource_WithItsRealCount()
    {
        await PublishFleetAsync();
        await using ConsumerProcess first = await StartConsumerAsync(), second = await StartConsumerAsync();
        string[] scrapes = [await ScrapeWhenReadAsync(first, incidents: 2, paged: false), await ScrapeWhenReadAsync(second, incidents: 2, paged: false)];

        // The two scrapes as promtool input series, each host's samples under its own instance label, held for 10 minutes.
        var series = new StringBuilder();
        for (int host = 0; host < scrapes.Length; host++)
        {
            foreach (Match sample in Sample().Matches(scrapes[host]).Where(m => m.Groups["name"].Value.StartsWith("immune_fleet_", StringComparison.Ordinal)))
            {
                string labels = sample.Groups["labels"].Value;
                string value = double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture).ToString("0.######", CultureInfo.InvariantCulture);
                series.Append(CultureInfo.InvariantCulture, $"      - series: '{sample.Groups["name"].Value}{{{labels}{(labels.Length > 0 ? "," : "")}job=\"immune-fleet\",instance=\"host-{host}\"}}'\n        values: '{value}x10'\n");
            }
        }

        string rules = Path.Combine(Repository.Root(), "samples", "observability", "prometheus-alerts.yml");
        string description = Regex.Match(await File.ReadAllTextAsync(rules), @"alert: ImmuneCriticalIncidentOpen[\s\S]*?description: ""(?<d>[^""]*)""").Groups["d"].Value
            .Replace("{{ $labels.source }}", _checkout, StringComparison.Ordinal);
        string test = Path.Combine(Path.GetTempPath(), $"immune-rules-test-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(test, $"""
            rule_files:
              - {rules}
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            {series}
                alert_rule_test:
                  - eval_time: 5m
                    alertname: ImmuneCriticalIncidentOpen
                    exp_alerts:
                      - exp_labels:
                          severity: page
                          source: {_checkout}
                        exp_annotations:
                          summary: "{_checkout} has 1 open CRITICAL incident(s)"
                          description: "{description}"
                  - eval_time: 5m
                    alertname: ImmuneFleetNotLive
                    exp_alerts: []
                  - eval_time: 5m
                    alertname: ImmunePagerFailing
                    exp_alerts: []
            """);
        try
        {
            output.WriteLine(await PromtoolAsync("test", "rules", test));
        }
        finally
        {
            File.Delete(test);
        }
    }

    [Fact]
    public async Task Scrape_10000Sources_UnderAHundredKilobytes_TheCriticalSourceSeenLastHasItsSeries()
    {
        IDatabase db = Connection.GetDatabase();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var writes = new List<Task>();
        for (int i = 0; i < 10_000; i++)
        {
            writes.AddRange(Envelopes.Of($"service-{i:D5}", "i-1", 1, i % 50 == 0 ? ImmuneSeverity.Warning : ImmuneSeverity.Info, now, "m").Select(e => Add(db, e)));
        }

        writes.AddRange(Envelopes.Of("zz-first-seen-last", "i-1", 1, ImmuneSeverity.Critical, now, "disk on fire").Select(e => Add(db, e)));
        await Task.WhenAll(writes).WaitAsync(HangGuard);
        await using ConsumerProcess consumer = await StartConsumerAsync();

        string text = await ScrapeWhenReadAsync(consumer, incidents: 201);
        int size = Encoding.UTF8.GetByteCount(text);
        output.WriteLine($"One scrape at 10,001 sources: {size:N0} bytes, {Sample().Matches(text).Count} samples.");

        size.ShouldBeLessThan(100 * 1024);
        Value(text, "immune_fleet_source_open_incidents", "source=\"zz-first-seen-last\",severity=\"critical\"").ShouldBe(1);
        Value(text, "immune_fleet_open_incidents", "severity=\"warning\"").ShouldBe(200);
        Value(text, "immune_fleet_sources", string.Empty).ShouldBe(10_001);
        Sample().Matches(text).Count(m => m.Groups["name"].Value == "immune_fleet_source_open_incidents").ShouldBe(2 * 100); // the 100 worst, by severity
        text.ShouldNotContain("otel_metric_overflow");
    }

    /// <summary>Writes an envelope as the Redis transport does (fields type, id, envelope), without a service per source.</summary>
    private Task Add(IDatabase db, EventEnvelope envelope)
        => db.StreamAddAsync(StreamKey, [new("type", envelope.Type), new("id", envelope.Id), new("envelope", ImmuneJson.Serialize(envelope))]);

    private Task<ConsumerProcess> StartConsumerAsync() => ConsumerProcess.StartAsync(
        ("ConnectionStrings__Redis", Server.ConnectionString),
        ("Immune__Redis__StreamKey", StreamKey),
        ("Immune__Redis__DeadLetterKey", StreamKey + ":dead"),
        ("Immune__Redis__ConsumerName", $"c-{Guid.NewGuid():N}"));

    /// <summary>A CRITICAL and an INFO event of one source, a WARNING of another.</summary>
    private async Task PublishFleetAsync()
    {
        await using ImmuneService checkout = Producer(_checkout), payments = Producer(_payments);
        await checkout.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
        await checkout.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, "healed"));
        await payments.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "slow"));
    }

    /// <summary>Scrapes the host once its feeds read the fleet (its JSON counts the open incidents) and, when <paramref name="paged"/>, its pager sent the page (of a group of hosts, one pages).</summary>
    private static async Task<string> ScrapeWhenReadAsync(ConsumerProcess consumer, int incidents, bool paged = true)
    {
        using var client = new HttpClient { BaseAddress = new Uri(consumer.Url), Timeout = HangGuard };
        using var guard = new CancellationTokenSource(HangGuard);
        while (true)
        {
            JsonElement health = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health", guard.Token);
            if (health.GetProperty("open_incidents").GetInt32() == incidents && health.GetProperty("live").GetBoolean()
                && (!paged || health.GetProperty("pager").GetProperty("sent").GetInt64() >= 1))
            {
                break;
            }

            await Task.Yield();
        }

        HttpResponseMessage scrape = await client.GetAsync("/metrics", guard.Token);
        scrape.StatusCode.ShouldBe(HttpStatusCode.OK);
        scrape.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return await scrape.Content.ReadAsStringAsync(guard.Token);
    }

    private static async Task<string> ScrapeProducerAsync()
    {
        await using var api = new WebApplicationFactory<Program>();
        HttpClient client = api.CreateClient();
        HttpResponseMessage post = await client.PostAsync("/api/immune/event", new StringContent(
            """{"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reused"}""", new MediaTypeHeaderValue("application/json")));
        post.EnsureSuccessStatusCode();
        HttpResponseMessage scrape = await client.GetAsync("/metrics");
        scrape.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await scrape.Content.ReadAsStringAsync();
    }

    /// <summary>The Prometheus names of every instrument of Immune's meters, measured or not: dots become underscores, counters end in <c>_total</c>, seconds in <c>_seconds</c>.</summary>
    private static string[] InstrumentSeries()
    {
        var names = new List<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name is not ("Immune" or "Immune.Fleet")) return;
                string name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : string.Empty);
                names.Add(instrument.GetType().Name.Contains("Counter", StringComparison.Ordinal) ? name + "_total" : name);
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
        matches.Length.ShouldBe(1, $"{name}{{{labels}}} in:\n{text[..Math.Min(text.Length, 20_000)]}");
        return double.Parse(matches[0].Groups["value"].Value, CultureInfo.InvariantCulture);
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
