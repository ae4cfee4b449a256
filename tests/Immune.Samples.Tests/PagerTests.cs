using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

/// <summary>
/// The PagerDuty-style pager against a local HTTP receiver, and the consumer group that drives it on a real
/// <c>redis-server</c>: one trigger per escalation, one resolve per resolution, nothing for redeliveries, the pager's
/// state right under a group of two handling envelopes out of order, and the routing key nowhere but in request bodies.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class PagerTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private const string RoutingKey = "R0UTING-KEY-5ecret-0123456789";
    private Receiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await Receiver.StartAsync();
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
    public async Task Send_5xxAnd429_RetriedWithBackoffThenTaken_400NotRetried_AlwaysDown_Throws()
    {
        EventEnvelope envelope = Envelope("checkout", "i-1", 1, "m");
        _receiver.Answer(503, 429, 500); // then 202
        await Pager().PageAsync("k", envelope, CancellationToken.None);
        _receiver.Requests.Count.ShouldBe(4);

        _receiver.Answer(400);
        await Pager().PageAsync("k", envelope, CancellationToken.None); // logged; a retry cannot fix the request
        _receiver.Requests.Count.ShouldBe(5);

        _receiver.Answer(503, 503, 503, 503, 503);
        var exception = await Should.ThrowAsync<HttpRequestException>(() => Pager().ResolveAsync("k", envelope, CancellationToken.None));
        exception.Message.ShouldBe("The pager did not take the resolve of k after 5 attempts (last: HTTP 503).");
        _receiver.Requests.Count.ShouldBe(10);
    }

    [Fact]
    public async Task Consumer_EscalationsResolutionsAndRedeliveries_OneTriggerPerEscalationOneResolvePerResolution()
    {
        string instance = await ProduceAsync(async service =>
        {
            long a = await service.PublishAsync(Critical("a"));                                    // trigger a
            long b = await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "b"));
            await service.ChangeSeverityAsync(b, ImmuneSeverity.Critical);                         // trigger b
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Info);                             // resolve a
            await service.ChangeSeverityAsync(b, ImmuneSeverity.Warning);                          // resolve b
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Critical);                         // trigger a again
            await service.ChangeSeverityAsync(b, ImmuneSeverity.Info);                             // nothing: b was not CRITICAL
        });
        ImmuneStreamConsumer consumer = Consumer("solo", TimeSpan.FromMinutes(5));
        await consumer.EnsureGroupAsync();
        while (await consumer.ProcessBatchAsync() > 0)
        {
        }

        string a = Key(instance, 1), b = Key(instance, 2);
        _receiver.Actions.ShouldBe([(a, "trigger"), (b, "trigger"), (a, "resolve"), (b, "resolve"), (a, "trigger")]);

        await RedeliverAllAsync(); // a producer's retry writes every entry again: same envelope ids
        while (await consumer.ProcessBatchAsync() > 0)
        {
        }

        _receiver.Actions.Count.ShouldBe(5);
    }

    [Fact]
    public async Task Consumer_GroupOfTwoHandlesAnEscalationAfterItsResolution_TheStaleTriggerIsNotSent()
    {
        string instance = await ProduceAsync(async service =>
        {
            long a = await service.PublishAsync(Critical("a"));
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Info);
        });
        ImmuneStreamConsumer doomed = Consumer("doomed", TimeSpan.Zero, batch: 2), survivor = Consumer("survivor", TimeSpan.FromMinutes(5));
        await survivor.EnsureGroupAsync();
        IDatabase db = Connection.GetDatabase();

        // "doomed" takes the publication and the critical event, and dies before handling them.
        (await db.StreamReadGroupAsync(StreamKey, "immune-consumers", "doomed", StreamPosition.NewMessages, 2)).Length.ShouldBe(2);
        while (await survivor.ProcessBatchAsync() > 0)
        {
        }

        _receiver.Actions.ShouldBe([(Key(instance, 1), "resolve")]);
        await doomed.ProcessBatchAsync(); // reclaims the two (idle for longer than zero) and handles them late
        _receiver.Actions.ShouldBe([(Key(instance, 1), "resolve")]); // the trigger is older than the resolve already sent
        (await db.StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Consumer_TwoConsumersAtOnceOnARandomFleet_EachKeyInTimeOrderEndingInTheEventsState(int seed)
    {
        var random = new Random(seed);
        var finals = new List<(long Id, ImmuneSeverity Severity)>();
        string instance = await ProduceAsync(async service =>
        {
            for (int step = 0; step < 150; step++)
            {
                IReadOnlyList<ImmuneEvent> recent = service.GetRecentEvents(TimeSpan.MaxValue);
                if (recent.Count > 0 && random.Next(2) == 0)
                {
                    ImmuneEvent target = recent[random.Next(recent.Count)];
                    await service.ChangeSeverityAsync(target.Id, target.Severity == ImmuneSeverity.Critical ? (ImmuneSeverity)random.Next(2) : ImmuneSeverity.Critical);
                }
                else
                {
                    await service.PublishAsync(new NewImmuneEvent((ImmuneSeverity)random.Next(3), ImmuneEventType.ErrorSpike, $"step {step}"));
                }
            }

            finals.AddRange(service.GetRecentEvents(TimeSpan.MaxValue).Select(e => (e.Id, e.Severity)));
        });
        await RedeliverSomeAsync(random, 30);
        var pager = new RecordingPager();
        ImmuneStreamConsumer first = Consumer("c1", TimeSpan.FromMinutes(5), batch: 3, pager), second = Consumer("c2", TimeSpan.FromMinutes(5), batch: 5, pager);
        await first.EnsureGroupAsync();

        static async Task Drain(ImmuneStreamConsumer consumer)
        {
            while (await consumer.ProcessBatchAsync() > 0)
            {
            }
        }

        await Task.WhenAll(Task.Run(() => Drain(first)), Task.Run(() => Drain(second))).WaitAsync(TimeSpan.FromMinutes(2));

        pager.Sent.Select(s => s.EnvelopeId).ShouldBeUnique(); // no envelope sent twice, redeliveries included
        foreach ((long id, ImmuneSeverity severity) in finals)
        {
            RecordingPager.Action[] mine = [.. pager.Sent.Where(s => s.Key == Key(instance, id))];
            for (int i = 1; i < mine.Length; i++)
            {
                mine[i].At.ShouldBeGreaterThan(mine[i - 1].At, $"event {id}: its actions reached the pager out of time order");
            }

            if (severity == ImmuneSeverity.Critical)
            {
                mine.ShouldNotBeEmpty($"event {id} is CRITICAL");
                mine[^1].Name.ShouldBe("trigger", $"event {id} is CRITICAL");
            }
            else if (mine.Length > 0)
            {
                mine[^1].Name.ShouldBe("resolve", $"event {id} is {severity}");
            }
        }

        pager.Sent.Count(s => s.Name == "resolve").ShouldBeGreaterThan(0);
        (await Connection.GetDatabase().StreamPendingAsync(StreamKey, "immune-consumers")).PendingMessageCount.ShouldBe(0);
    }

    [Fact]
    public async Task ConsumerHost_WithARoutingKey_PagesThroughTheReceiver_AndTheKeyIsNowhereElse()
    {
        var lines = new ConcurrentQueue<string>();
        await using WebApplicationFactory<ImmuneFleetFeed> host = new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Redis", Server.ConnectionString)
            .UseSetting("Immune:StreamKey", StreamKey)
            .UseSetting("Immune:Pager:RoutingKey", RoutingKey)
            .UseSetting("Immune:Pager:Url", _receiver.Url)
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

    private PagerDutyPager Pager() => new(new HttpClient(), new PagerDutyOptions
    {
        Url = new Uri(_receiver.Url),
        RoutingKey = RoutingKey,
        RetryDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(5),
    }, NullLogger<PagerDutyPager>.Instance, TimeProvider.System);

    private ImmuneStreamConsumer Consumer(string name, TimeSpan reclaimAfter, int batch = 7, IOnCallPager? pager = null) => new(
        Connection,
        pager ?? Pager(),
        new ImmuneStreamConsumerOptions { StreamKey = StreamKey, DeadLetterKey = StreamKey + ":dead", ConsumerName = name, ReclaimAfter = reclaimAfter, BatchSize = batch },
        NullLogger<ImmuneStreamConsumer>.Instance);

    private async Task<string> ProduceAsync(Func<ImmuneService, Task> produce)
    {
        await using var service = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey }), new ImmuneOptions { Source = "checkout" });
        await produce(service);
        await service.FlushAsync();
        return service.InstanceId;
    }

    private async Task RedeliverAllAsync()
    {
        foreach (StreamEntry entry in await Connection.GetDatabase().StreamRangeAsync(StreamKey))
        {
            await Connection.GetDatabase().StreamAddAsync(StreamKey, entry.Values);
        }
    }

    private async Task RedeliverSomeAsync(Random random, int count)
    {
        StreamEntry[] written = await Connection.GetDatabase().StreamRangeAsync(StreamKey);
        for (int i = 0; i < count; i++)
        {
            await Connection.GetDatabase().StreamAddAsync(StreamKey, written[random.Next(written.Length)].Values);
        }
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

    /// <summary>A local stand-in for the Events API: records every request body and answers 202, or the statuses it is told to first.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<int> _answers = new();
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Receiver(WebApplication app) => _app = app;

        public ConcurrentQueue<JsonElement> Requests { get; } = new();

        public Task FirstRequest => _first.Task;

        public string Url { get; private set; } = string.Empty;

        /// <summary>Gets the (dedup key, action) of every request, in arrival order.</summary>
        public List<(string Key, string Action)> Actions => [.. Requests.Select(r => (r.GetProperty("dedup_key").GetString()!, r.GetProperty("event_action").GetString()!))];

        public void Answer(params int[] statuses)
        {
            foreach (int status in statuses) _answers.Enqueue(status);
        }

        public static async Task<Receiver> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            WebApplication app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/v2/enqueue", async (HttpContext context) =>
            {
                using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body);
                receiver.Requests.Enqueue(body.RootElement.Clone());
                receiver._first.TrySetResult();
                if (receiver._answers.TryDequeue(out int status))
                {
                    if (status == 429)
                    {
                        context.Response.Headers.RetryAfter = "1"; // a second, which the pager caps at its MaxRetryDelay
                    }

                    return Results.StatusCode(status);
                }

                return Results.Json(new { status = "success", message = "Event processed" }, statusCode: (int)HttpStatusCode.Accepted);
            });
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v2/enqueue";
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
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
