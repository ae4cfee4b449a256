using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Immune.Nats;
using Immune.Samples.Consumer;
using Microsoft.AspNetCore.Mvc.Testing;
using NATS.Client.Core;
using Xunit.Abstractions;

namespace Immune.Samples.Tests;

/// <summary>
/// The consumer sample as a user runs it, on real servers: the fleet from the stream, stale shown as stale and the
/// probes answering at once while the broker is gone (Redis and NATS), and the fleet key in front of the page, its
/// JSON and <c>/metrics</c>, with a browser signing in through its own prompt.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class ConsumerHostTests(RedisFixture redis, ITestOutputHelper output) : RedisStreamTest(redis)
{
    private const string Key = "correct-horse-battery-staple";

    /// <summary>Asks the host until <paramref name="until"/> holds for its health JSON (the feeds read in the background).</summary>
    private static async Task<JsonElement> HealthAsync(HttpClient client, Func<JsonElement, bool> until)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (true)
        {
            JsonElement health = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health", guard.Token);
            if (until(health)) return health;
            await Task.Yield();
        }
    }

    [Fact]
    public async Task ConsumerHost_Redis_ServesTheFleetFromTheStream_AndPagesTheCriticalOnce()
    {
        await using (ImmuneService checkout = Producer("checkout"), payments = Producer("payments"))
        {
            await checkout.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
            await checkout.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, "healed"));
            await payments.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "slow"));
        }

        await using WebApplicationFactory<PagerDutyPager> host = ConsumerHost();
        HttpClient client = host.CreateClient();
        JsonElement health = await HealthAsync(client, h => h.GetProperty("active_issues").GetInt32() == 3 && h.GetProperty("live").GetBoolean() && h.GetProperty("pager").GetProperty("sent").GetInt64() == 1);

        health.GetProperty("status").GetString().ShouldBe("CRITICAL");
        health.GetProperty("open_incidents").GetInt32().ShouldBe(2);
        health.GetProperty("feeds").EnumerateArray().Select(f => f.GetProperty("name").GetString()).Count().ShouldBe(2); // the fleet feed and the group's consumer
        health.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("source").GetString()).ShouldBe(["checkout", "payments"]);
        JsonElement incidents = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/incidents");
        incidents.EnumerateArray().Select(i => i.GetProperty("message").GetString()).ShouldBe(["breach", "slow"]);
        (await client.GetStringAsync("/healthz")).ShouldBe("Healthy");
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("nats")]
    public async Task ConsumerHost_BrokerStops_NotLiveSinceTheLastRead_HealthzDegraded_ProbesAnswerAtOnce(string broker)
    {
        await using ServerProcess server = broker == "redis" ? await RedisServer.StartAsync() : await NatsServer.StartAsync();
        string address = server is RedisServer r ? r.ConnectionString : ((NatsServer)server).Url;
        await PublishCriticalAsync(broker, address);
        await using WebApplicationFactory<PagerDutyPager> host = new WebApplicationFactory<PagerDutyPager>().WithWebHostBuilder(web => web
            .UseSetting("Immune:Broker", broker)
            .UseSetting(broker == "redis" ? "ConnectionStrings:Redis" : "ConnectionStrings:Nats", address)
            .UseSetting("Immune:Fleet:StaleAfter", "00:00:02"));
        HttpClient client = host.CreateClient();
        await HealthAsync(client, h => h.GetProperty("live").GetBoolean() && h.GetProperty("open_incidents").GetInt32() == 1);

        await server.StopAsync();
        JsonElement stale = await HealthAsync(client, h => !h.GetProperty("live").GetBoolean());

        DateTimeOffset lastRead = stale.GetProperty("last_read_at").GetDateTimeOffset();
        stale.GetProperty("open_incidents").GetInt32().ShouldBe(1); // what it knew stays shown, marked as not live
        stale.GetProperty("generated_at").GetDateTimeOffset().ShouldBeGreaterThan(lastRead.AddSeconds(2));
        for (int probe = 0; probe < 3; probe++)
        {
            var clock = Stopwatch.StartNew();
            using var answer = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hang guard: it answers from memory
            HttpResponseMessage healthz = await client.GetAsync("/healthz", answer.Token);
            output.WriteLine($"/healthz with {broker} down: {(int)healthz.StatusCode} {await healthz.Content.ReadAsStringAsync()} in {clock.ElapsedMilliseconds} ms");
            (await healthz.Content.ReadAsStringAsync()).ShouldBe("Degraded");
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health")).GetProperty("last_read_at").GetDateTimeOffset().ShouldBe(lastRead);
    }

    [Fact]
    public async Task ConsumerHost_FleetKey_PageJsonAndMetricsAskToSignIn_TheKeyLetsIn_HealthzStaysOpen()
    {
        await using WebApplicationFactory<PagerDutyPager> host = ConsumerHost(settings: ("Immune:FleetKey", Key));
        HttpClient client = host.CreateClient();

        foreach (string path in new[] { "/", "/dashboard.js", "/api/immune/fleet/health", "/api/immune/fleet/incidents", "/api/immune/fleet/rate", "/metrics" })
        {
            HttpResponseMessage anonymous = await client.GetAsync(path);
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
            anonymous.Headers.WwwAuthenticate.ToString().ShouldStartWith("Basic realm=\"Immune fleet\"", customMessage: path);
            (await anonymous.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString().ShouldNotBeNull().ShouldContain("fleet key");

            (await SendAsync(client, path, new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("on-call:" + Key))))).StatusCode.ShouldBe(HttpStatusCode.OK, path);
            (await SendAsync(client, path, new AuthenticationHeaderValue("Bearer", Key))).StatusCode.ShouldBe(HttpStatusCode.OK, path);
            (await SendAsync(client, path, new AuthenticationHeaderValue("Bearer", Key + "x"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
        }

        (await client.GetAsync("/")).Headers.GetValues("Content-Security-Policy").Single().ShouldContain("frame-ancestors 'none'"); // a 401 of the fleet's too
        (await client.GetAsync("/healthz")).StatusCode.ShouldNotBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ConsumerHost_FleetKey_ABrowserSignsInWithTheKeyAsItsPassword_AndThePageDrawsTheFleet()
    {
        await using (ImmuneService checkout = Producer("checkout"))
        {
            await checkout.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
        }

        await using WebApplicationFactory<PagerDutyPager> host = ConsumerHost(kestrel: true, ("Immune:FleetKey", Key));
        using Browser browser = Browser.Start();
        var address = new UriBuilder(Address(host)) { UserName = "on-call", Password = Key }; // what a user types into the browser's prompt

        browser.Driver.Navigate().GoToUrl(address.Uri);
        browser.Wait().Until(_ => browser.Driver.FindElements(OpenQA.Selenium.By.CssSelector("#incidents tbody tr")).Count == 1);

        browser.Driver.FindElement(OpenQA.Selenium.By.CssSelector("#incidents tbody tr td.message")).Text.ShouldStartWith("breach");
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string path, AuthenticationHeaderValue authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        return client.SendAsync(request);
    }

    private static async Task PublishCriticalAsync(string broker, string address)
    {
        if (broker == "redis")
        {
            await using StackExchange.Redis.ConnectionMultiplexer connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Immune.Redis.RedisStreamsOptions.ConnectionOptions(address));
            await using var service = new ImmuneService(new Immune.Redis.RedisStreamsEventStream(connection, new Immune.Redis.RedisStreamsOptions()));
            await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
            await service.FlushAsync().WaitAsync(HangGuard);
        }
        else
        {
            await using var connection = new NatsConnection(NatsOpts.Default with { Url = address });
            await using var service = new ImmuneService(new NatsJetStreamEventStream(connection, new NatsJetStreamOptions()));
            await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach"));
            await service.FlushAsync().WaitAsync(HangGuard);
            service.GetDeliveryStats().Delivered.ShouldBe(2);
        }
    }
}
