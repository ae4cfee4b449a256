using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Immune.Samples.Consumer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune.Samples.Tests;

/// <summary>
/// The PagerDuty pager against a local HTTP receiver, alone and in the consumer sample on a real <c>redis-server</c>:
/// the Events API v2 spoken, retries, a refusal (400, 404) never recorded as sent, a pager outage that leaves the page
/// pending until the pager is back while the health says so, and the routing key nowhere but in request bodies.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class PagerTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private const string RoutingKey = "R0UTING-KEY-5ecret-0123456789";
    private PagerReceiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await PagerReceiver.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Trigger_SpeaksEventsApiV2_WithTheFleetDedupKeyAndTheEventsFacts()
    {
        EventEnvelope envelope = Envelope("checkout", "i-1", 7, "token reused");

        await Pager().PageAsync("immune_critical_checkout_i-1_7", envelope, CancellationToken.None);
        await Pager().ResolveAsync("immune_critical_checkout_i-1_7", envelope, CancellationToken.None);

        JsonElement[] requests = [.. _receiver.Requests];
        requests.Length.ShouldBe(2);
        JsonElement trigger = requests[0];
        trigger.GetProperty("routing_key").GetString().ShouldBe(RoutingKey);
        trigger.GetProperty("event_action").GetString().ShouldBe("trigger");
        trigger.GetProperty("dedup_key").GetString().ShouldBe("immune_critical_checkout_i-1_7");
        JsonElement payload = trigger.GetProperty("payload");
        payload.GetProperty("summary").GetString().ShouldBe("[CRITICAL] checkout: token reused");
        payload.GetProperty("source").GetString().ShouldBe("checkout/i-1");
        payload.GetProperty("severity").GetString().ShouldBe("critical");
        payload.GetProperty("class").GetString().ShouldBe("POLICY_VIOLATION");
        payload.GetProperty("component").GetString().ShouldBe("auth");
        payload.GetProperty("custom_details").GetProperty("event_id").GetInt64().ShouldBe(7);
        requests[1].EnumerateObject().Select(p => p.Name).ShouldBe(["routing_key", "event_action", "dedup_key"]);
        requests[1].GetProperty("event_action").GetString().ShouldBe("resolve");
    }

    [Fact]
    public async Task Send_5xxAnd429_RetriedWithBackoffThenTaken_400And404_RefusedNotRetried_AlwaysDown_Throws()
    {
        EventEnvelope envelope = Envelope("checkout", "i-1", 1, "m");
        _receiver.Answer(503, 429, 500); // then 202
        await Pager().PageAsync("k", envelope, CancellationToken.None);
        _receiver.Requests.Count.ShouldBe(4);

        _receiver.Answer(400);
        await Should.ThrowAsync<ImmunePageRefusedException>(() => Pager().PageAsync("k", envelope, CancellationToken.None)); // a retry cannot fix the request
        _receiver.Requests.Count.ShouldBe(5);
        _receiver.Answer(404);
        (await Should.ThrowAsync<ImmunePageRefusedException>(() => Pager().PageAsync("k", envelope, CancellationToken.None))).Message.ShouldContain("HTTP 404"); // a mistyped URL
        _receiver.Requests.Count.ShouldBe(6);

        _receiver.Answer(503, 503, 503, 503, 503);
        var exception = await Should.ThrowAsync<HttpRequestException>(() => Pager().ResolveAsync("k", envelope, CancellationToken.None));
        exception.Message.ShouldBe("The pager did not take the resolve of k after 5 attempts (last: HTTP 503).");
        _receiver.Requests.Count.ShouldBe(11);
    }

    [Fact]
    public async Task ConsumerHost_WithARoutingKey_PagesThroughTheReceiver_AndTheKeyIsNowhereElse()
    {
        var lines = new ConcurrentQueue<string>();
        await using WebApplicationFactory<PagerDutyPager> host = PagingHost().WithWebHostBuilder(web => web
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new LineLoggerProvider(lines))));
        HttpClient client = host.CreateClient();
        await ProduceAsync(async service => await service.PublishAsync(Critical("breach")));

        await _receiver.FirstRequest.WaitAsync(TimeSpan.FromSeconds(90));
        _receiver.Requests.Single().GetProperty("routing_key").GetString().ShouldBe(RoutingKey);

        string[] seen =
        [
            await client.GetStringAsync("/"),
            await client.GetStringAsync("/api/immune/fleet/incidents"),
            await client.GetStringAsync("/api/immune/fleet/health"),
            await client.GetStringAsync("/metrics"),
            await client.GetStringAsync("/healthz"),
            host.Services.GetRequiredService<PagerDutyOptions>().ToString(),
            .. lines,
        ];
        lines.ShouldNotBeEmpty();
        seen.Where(text => text.Contains(RoutingKey, StringComparison.Ordinal)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ConsumerHost_PagerDown_PageStaysPendingAndGoesWhenItIsBack_HealthSaysSoMeanwhile()
    {
        await using WebApplicationFactory<PagerDutyPager> host = PagingHost();
        HttpClient client = host.CreateClient();
        _receiver.Down = true;
        Task firstTry = _receiver.FirstRequest;
        string instance = await ProduceAsync(async service => await service.PublishAsync(Critical("breach")));

        await firstTry.WaitAsync(HangGuard);
        JsonElement health = default;
        await UntilAsync(async () => (health = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health")).GetProperty("pager").GetProperty("failing_since").ValueKind == JsonValueKind.String);
        health.GetProperty("pager").GetProperty("sent").GetInt64().ShouldBe(0);
        health.GetProperty("live").GetBoolean().ShouldBeTrue(); // the broker is read: the view is live, paging is what fails
        (await client.GetStringAsync("/healthz")).ShouldBe("Degraded");

        _receiver.Down = false; // back: the pending page goes, once, and later pages too
        await UntilAsync(() => Task.FromResult(_receiver.Accepted.Count == 1));
        await ProduceAsync(async service => await service.PublishAsync(Critical("later")));
        await UntilAsync(() => Task.FromResult(_receiver.Accepted.Count == 2));
        await UntilAsync(async () => (health = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health")).GetProperty("pager").GetProperty("sent").GetInt64() == 2);
        await UntilAsync(async () => await client.GetStringAsync("/healthz") == "Healthy");
        _receiver.Accepted[0].GetProperty("dedup_key").GetString().ShouldBe(Key(instance, 1));
        health.GetProperty("pager").GetProperty("failed").GetInt64().ShouldBeGreaterThan(0);
        health.GetProperty("pager").GetProperty("failing_since").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task ConsumerHost_PagerAnswers404_ThePageIsRefusedNeitherSentNorRetried_LaterPagesGo()
    {
        await using WebApplicationFactory<PagerDutyPager> host = PagingHost();
        HttpClient client = host.CreateClient();
        _receiver.Answer(404);
        Task firstTry = _receiver.FirstRequest;
        await ProduceAsync(async service => await service.PublishAsync(Critical("to a mistyped URL")));
        await firstTry.WaitAsync(HangGuard);

        string instance = await ProduceAsync(async service => await service.PublishAsync(Critical("later")));
        JsonElement pager = default;
        await UntilAsync(async () => (pager = (await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health")).GetProperty("pager")).GetProperty("sent").GetInt64() == 1);

        _receiver.Accepted.ShouldHaveSingleItem().GetProperty("dedup_key").GetString().ShouldBe(Key(instance, 1));
        pager.GetProperty("refused").GetInt64().ShouldBe(1);
        _receiver.Requests.Count.ShouldBe(2); // the refused page was not tried again
    }

    /// <summary>Waits on the condition itself, asking again at once; the guard only ends a hang.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (!await condition())
        {
            guard.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }

    /// <summary>The consumer sample paging through the receiver, retrying quickly.</summary>
    private WebApplicationFactory<PagerDutyPager> PagingHost() => ConsumerHost(settings:
    [
        ("Immune:Pager:RoutingKey", RoutingKey),
        ("Immune:Pager:Url", _receiver.Url),
        ("Immune:Pager:RetryDelay", "00:00:00.001"),
        ("Immune:Pager:MaxRetryDelay", "00:00:00.005"),
    ]);

    private PagerDutyPager Pager() => new(new Clients(), new PagerDutyOptions
    {
        Url = new Uri(_receiver.Url),
        RoutingKey = RoutingKey,
        RetryDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(5),
    }, NullLogger<PagerDutyPager>.Instance, TimeProvider.System);

    private async Task<string> ProduceAsync(Func<ImmuneService, Task> produce)
    {
        await using ImmuneService service = Producer("checkout");
        await produce(service);
        await service.FlushAsync();
        return service.InstanceId;
    }

    private static string Key(string instance, long eventId) => $"immune_critical_checkout_{instance}_{eventId}";

    private static NewImmuneEvent Critical(string message) => new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message);

    private static EventEnvelope Envelope(string source, string instance, long eventId, string message)
    {
        DateTimeOffset at = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
        return new EventEnvelope($"evt_{eventId}", ImmuneEventTypes.CriticalEvent, source, null, at,
            new ImmuneCriticalEventPayload(eventId, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message, at) { Module = "auth" },
            new EventMeta("c") { InstanceId = instance });
    }

    /// <summary>A client factory as the container gives one: a new client each time.</summary>
    private sealed class Clients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new();
    }

    private sealed class LineLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new LineLogger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class LineLogger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
