using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

/// <summary>What the dashboard reads besides the fleet summary: the per-minute rate, the page itself and the consumer's health.</summary>
[Collection(nameof(RedisCollection))]
public sealed class DashboardApiTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public void Rate_EventsInClockMinutes_CountedInTheirMinuteByCurrentSeverity()
    {
        var fleet = new ImmuneFleetView(timeProvider: _time);
        Apply(fleet, 1, ImmuneSeverity.Info, Start.AddSeconds(10));                 // minute 09:00
        Apply(fleet, 2, ImmuneSeverity.Critical, Start.AddSeconds(59.999));          // minute 09:00, its last millisecond
        Apply(fleet, 3, ImmuneSeverity.Warning, Start.AddMinutes(1));                // minute 09:01, its first instant
        Apply(fleet, 4, ImmuneSeverity.Warning, Start.AddMinutes(3).AddSeconds(30)); // minute 09:03, the current one
        Apply(fleet, 5, ImmuneSeverity.Info, Start.AddMinutes(-10));                 // before the window
        _time.SetUtcNow(Start.AddMinutes(3).AddSeconds(40));

        IReadOnlyList<FleetDashboard.MinuteResponse> rate = FleetDashboard.Rate(fleet, _time.GetUtcNow(), 4);

        rate.ShouldBe(
        [
            new(Start, 1, 0, 1),
            new(Start.AddMinutes(1), 0, 1, 0),
            new(Start.AddMinutes(2), 0, 0, 0),
            new(Start.AddMinutes(3), 0, 1, 0),
        ]);
        FleetDashboard.Rate(fleet, _time.GetUtcNow(), 60).Sum(m => m.Info + m.Warning + m.Critical).ShouldBe(5);
    }

    [Fact]
    public async Task ConsumerHost_PageRateAndHealth_ServedAndBadQueriesRefusedWithADetail()
    {
        await using WebApplicationFactory<ImmuneFleetFeed> host = Host();
        HttpClient client = host.CreateClient();

        HttpResponseMessage page = await client.GetAsync("/");
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        (await page.Content.ReadAsStringAsync()).ShouldContain("<title>Immune");
        foreach (string file in new[] { "/dashboard.js", "/dashboard.css" })
        {
            (await client.GetAsync(file)).StatusCode.ShouldBe(HttpStatusCode.OK, file);
        }

        JsonElement rate = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/rate?minutes=5");
        rate.GetArrayLength().ShouldBe(5);
        rate[0].EnumerateObject().Select(p => p.Name).ShouldBe(["start", "info", "warning", "critical"]);
        (await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/rate")).GetArrayLength().ShouldBe(60);
        foreach (string query in new[] { "minutes=0", "minutes=1441", "minutes=abc", "minutes=2.5" })
        {
            HttpResponseMessage refused = await client.GetAsync($"/api/immune/fleet/rate?{query}");
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, query);
            (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString().ShouldStartWith("minutes must be a whole number from 1 to 1,440");
        }

        (await client.GetAsync("/no/such/page")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ConsumerHealth_ReportsTheGroupsLagAndPending_UnhealthyWithoutTheGroup()
    {
        var options = new ImmuneStreamConsumerOptions { StreamKey = StreamKey, ConsumerName = "c1" };
        var check = new ConsumerHealthCheck(Connection, options);
        var context = new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext();

        var missing = await check.CheckHealthAsync(context);
        missing.Status.ShouldBe(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy);
        missing.Description!.ShouldContain("do not exist yet");

        var consumer = new ImmuneStreamConsumer(Connection, Substitute.For<IOnCallPager>(), options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ImmuneStreamConsumer>.Instance);
        await consumer.EnsureGroupAsync();
        IDatabase db = Connection.GetDatabase();
        for (int i = 0; i < 5; i++) await db.StreamAddAsync(StreamKey, "envelope", "{}");
        await db.StreamReadGroupAsync(StreamKey, options.Group, "c1", StreamPosition.NewMessages, 2); // two delivered, not acknowledged

        var healthy = await check.CheckHealthAsync(context);
        healthy.Status.ShouldBe(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy);
        healthy.Data["lag"].ShouldBe(3L);
        healthy.Data["pending"].ShouldBe(2L);
        healthy.Data["stream"].ShouldBe(StreamKey);
    }

    [Fact]
    public async Task ConsumerHost_Healthz_JsonWithTheChecksData_503WhenRedisIsGone()
    {
        await using RedisServer own = await RedisServer.StartAsync();
        await using WebApplicationFactory<ImmuneFleetFeed> host = Host(own.ConnectionString);
        HttpClient client = host.CreateClient();
        await using (ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamEventStream.ConnectionOptions(own.ConnectionString)))
        {
            await new ImmuneStreamConsumer(connection, Substitute.For<IOnCallPager>(), new ImmuneStreamConsumerOptions { StreamKey = StreamKey },
                Microsoft.Extensions.Logging.Abstractions.NullLogger<ImmuneStreamConsumer>.Instance).EnsureGroupAsync();
        }

        HttpResponseMessage up = await client.GetAsync("/healthz");
        up.StatusCode.ShouldBe(HttpStatusCode.OK);
        JsonElement report = await up.Content.ReadFromJsonAsync<JsonElement>();
        report.GetProperty("status").GetString().ShouldBe("Healthy");
        report.GetProperty("checks").GetProperty("immune-consumer").GetProperty("data").GetProperty("lag").GetInt64().ShouldBe(0);

        await own.StopAsync();
        HttpResponseMessage down = await client.GetAsync("/healthz");
        down.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await down.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().ShouldBe("Unhealthy");
    }

    private WebApplicationFactory<ImmuneFleetFeed> Host(string? connectionString = null)
        => new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Redis", connectionString ?? Server.ConnectionString)
            .UseSetting("Immune:StreamKey", StreamKey)
            .ConfigureTestServices(services => services.AddSingleton<TimeProvider>(_time)));

    private static void Apply(ImmuneFleetView fleet, long id, ImmuneSeverity severity, DateTimeOffset at)
        => fleet.Apply(new EventEnvelope($"evt_{id}", ImmuneEventTypes.EventPublished, "checkout", null, at,
            new ImmuneEventPublishedPayload(id, severity, ImmuneEventType.ErrorSpike, "m", at), new EventMeta("c") { InstanceId = "i1" }));
}
