using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Immune.Samples.Api;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Immune.Samples.Tests;

public sealed class ApiTests : IAsyncLifetime
{
    private readonly WebApplicationFactory<Program> _factory = new();
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private async Task<long> PostAsync(string json)
    {
        HttpResponseMessage response = await _client.PostAsync("/api/immune/event", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<long>();
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        HttpResponseMessage response = await _client.GetAsync(path);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task PostEvent_Valid_ReturnsTheIdAndHealthReportsItInSnakeCase()
    {
        long id = await PostAsync("""{"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reused","agent_id":"gw-1","module":"auth","meta":{"user":42,"tags":["a"]}}""");

        id.ShouldBe(1);
        JsonElement health = await GetJsonAsync("/api/immune/health?minutes=60");
        health.GetProperty("active_issues").GetInt32().ShouldBe(1);
        health.GetProperty("critical_issues").GetInt32().ShouldBe(1);
        health.GetProperty("status").GetString().ShouldBe("CRITICAL");
        health.GetProperty("window_minutes").GetDouble().ShouldBe(60);
        health.GetProperty("counts_by_severity").GetProperty("CRITICAL").GetInt32().ShouldBe(1);
        health.GetProperty("counts_by_type").GetProperty("POLICY_VIOLATION").GetInt32().ShouldBe(1);
        JsonElement last = health.GetProperty("last_events").EnumerateArray().ShouldHaveSingleItem();
        last.GetProperty("id").GetInt64().ShouldBe(1);
        last.GetProperty("severity").GetString().ShouldBe("CRITICAL");
        last.GetProperty("type").GetString().ShouldBe("POLICY_VIOLATION");
        last.GetProperty("message").GetString().ShouldBe("token reused");
        last.GetProperty("agent_id").GetString().ShouldBe("gw-1");
        last.GetProperty("module").GetString().ShouldBe("auth");
        last.GetProperty("meta").GetProperty("user").GetInt64().ShouldBe(42);
        last.GetProperty("meta").GetProperty("tags")[0].GetString().ShouldBe("a");
        last.GetProperty("created_at").GetDateTimeOffset().ShouldBeGreaterThan(DateTimeOffset.MinValue);
    }

    [Fact]
    public async Task PostEvent_FoldWindowConfigured_IdenticalPostsFoldIntoOneEvent()
    {
        using WebApplicationFactory<Program> factory = _factory.WithWebHostBuilder(web => web.UseSetting("Immune:FoldWindow", "01:00:00"));
        using HttpClient client = factory.CreateClient();
        const string Json = """{"severity":"WARNING","type":"ERROR_SPIKE","message":"database refused the connection"}""";

        long[] ids = new long[3];
        for (int i = 0; i < ids.Length; i++)
        {
            HttpResponseMessage response = await client.PostAsync("/api/immune/event", new StringContent(Json, System.Text.Encoding.UTF8, "application/json"));
            ids[i] = await response.Content.ReadFromJsonAsync<long>();
        }

        ids.ShouldBe([1L, 1L, 1L]);
        JsonElement health = await client.GetFromJsonAsync<JsonElement>("/api/immune/health?minutes=60");
        health.GetProperty("active_issues").GetInt32().ShouldBe(1);
        health.GetProperty("occurrences").GetInt64().ShouldBe(3);
        health.GetProperty("last_events")[0].GetProperty("occurrences").GetInt64().ShouldBe(3);
        (await GetJsonAsync("/api/immune/health?minutes=60")).GetProperty("occurrences").GetInt64().ShouldBe(0); // off by default
    }

    [Fact]
    public async Task GetEvents_ReturnsTheWindowOldestFirst()
    {
        await PostAsync("""{"severity":"INFO","type":"SELF_HEALING_ACTION","message":"first"}""");
        await PostAsync("""{"severity":"WARNING","type":"ERROR_SPIKE","message":"second"}""");

        JsonElement events = await GetJsonAsync("/api/immune/events?minutes=60");

        events.EnumerateArray().Select(e => e.GetProperty("message").GetString()).ShouldBe(["first", "second"]);
        (await GetJsonAsync("/api/immune/events")).GetArrayLength().ShouldBe(2);
    }

    [Theory]
    [InlineData("""{"severity":"SEVERE","type":"ERROR_SPIKE","message":"m"}""", "severity")]
    [InlineData("""{"severity":"INFO","type":"OUTAGE","message":"m"}""", "type")]
    [InlineData("""{"type":"ERROR_SPIKE","message":"m"}""", "severity")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE"}""", "message")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"   "}""", "message")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","agent_id":"[long]"}""", "agent_id")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}}""", "meta")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":[1]}""", "meta")]
    [InlineData("""{"severity":2,"type":"ERROR_SPIKE","message":"m"}""", "severity")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":42}""", "message")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","agent_id":["a"]}""", "agent_id")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","agentId":"gw-1"}""", "agentId")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","message":"n"}""", "message")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"k":1,"k":2}}""", "meta")]
    [InlineData("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"a":[{"k":1,"k":2}]}}""", "meta")]
    [InlineData("""[1]""", "body")]
    [InlineData("""{"severity":""", "body")]
    public async Task PostEvent_Invalid_Returns400NamingTheFieldAndRecordsNothing(string json, string field)
    {
        json = json.Replace("[long]", new string('a', 300));

        HttpResponseMessage response = await _client.PostAsync("/api/immune/event", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("errors").TryGetProperty(field, out JsonElement messages).ShouldBeTrue(problem.ToString());
        string text = messages[0].GetString()!;
        text.ShouldNotContain("(Parameter"); // the request's terms, not .NET's
        if (field != "body") text.ShouldStartWith(field);
        (await GetJsonAsync("/api/immune/events")).GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task PostEvent_LargeIntegersInMeta_AreStoredAndPublishedExactly()
    {
        await PostAsync("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"big":9007199254740993,"max":9223372036854775807,"huge":18446744073709551615,"ratio":0.1,"n":[-9223372036854775808]}}""");

        string events = await _client.GetStringAsync("/api/immune/events");
        InMemoryEventStream stream = _factory.Services.GetRequiredService<InMemoryEventStream>();
        await _factory.Services.GetRequiredService<ImmuneService>().FlushAsync();
        string published = ImmuneJson.Serialize(stream.Envelopes.ShouldHaveSingleItem());

        foreach (string text in new[] { events, published })
        {
            text.ShouldContain("\"big\":9007199254740993");
            text.ShouldContain("\"max\":9223372036854775807");
            text.ShouldContain("\"huge\":18446744073709551615");
            text.ShouldContain("\"ratio\":0.1");
            text.ShouldContain("[-9223372036854775808]");
        }
    }

    [Theory]
    [InlineData("-5", "minutes must be a number from 0")]
    [InlineData("1e300", "minutes must be at most")]
    [InlineData("NaN", "minutes must be a number from 0")]
    public async Task GetHealth_MinutesOutOfRange_Returns400SayingWhy(string minutes, string expected)
    {
        HttpResponseMessage response = await _client.GetAsync($"/api/immune/health?minutes={minutes}");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain(expected);
    }

    [Fact]
    public async Task Requests_WithTheShippedLoggingDefaults_WriteNoFrameworkInformationLines()
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level)>();
        using WebApplicationFactory<Program> factory = _factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(new ListLoggerProvider(lines))));
        HttpClient client = factory.CreateClient();

        (await client.PostAsync("/api/immune/event", new StringContent("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m"}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        await client.GetStringAsync("/api/immune/health");

        lines.ShouldNotContain(l => l.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) && l.Level < LogLevel.Warning);
    }

    private sealed class ListLoggerProvider(System.Collections.Concurrent.ConcurrentQueue<(string, LogLevel)> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<(string, LogLevel)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => lines.Enqueue((category, logLevel));
        }
    }

    [Theory]
    [InlineData(null, HttpStatusCode.OK, "Healthy")]
    [InlineData("INFO", HttpStatusCode.OK, "Healthy")]
    [InlineData("WARNING", HttpStatusCode.OK, "Degraded")]
    [InlineData("CRITICAL", HttpStatusCode.ServiceUnavailable, "Unhealthy")]
    public async Task Healthz_FollowsTheWorstSeverityInTheWindow(string? severity, HttpStatusCode status, string body)
    {
        if (severity is not null)
        {
            await PostAsync($$"""{"severity":"{{severity}}","type":"ERROR_SPIKE","message":"m"}""");
        }

        HttpResponseMessage response = await _client.GetAsync("/healthz");

        response.StatusCode.ShouldBe(status);
        (await response.Content.ReadAsStringAsync()).ShouldBe(body);
    }

    [Fact]
    public async Task ChangeSeverity_ExistingEvent_Returns200AndHealthFollows_UnknownReturns404()
    {
        long id = await PostAsync("""{"severity":"WARNING","type":"ERROR_SPIKE","message":"m"}""");

        HttpResponseMessage escalated = await _client.PostAsJsonAsync($"/api/immune/event/{id}/severity", new { severity = "CRITICAL" });
        HttpResponseMessage missing = await _client.PostAsJsonAsync("/api/immune/event/999/severity", new { severity = "CRITICAL" });
        HttpResponseMessage invalid = await _client.PostAsJsonAsync($"/api/immune/event/{id}/severity", new { severity = "HUGE" });

        escalated.StatusCode.ShouldBe(HttpStatusCode.OK);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await _client.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Healthz_StreamFailingLongerThanTheThreshold_DegradedWithTheReasonInTheData()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
        await using WebApplicationFactory<Program> factory = _factory.WithWebHostBuilder(web => web.ConfigureTestServices(services => services
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<IEventStream>(new DownStream())
            .AddImmune(o => o.DeliveryAttempts = 1))); // one failed attempt settles the envelope; the stream still counts as failing
        HttpClient client = factory.CreateClient();
        ImmuneService service = factory.Services.GetRequiredService<ImmuneService>();

        HttpResponseMessage posted = await client.PostAsync("/api/immune/event", new StringContent("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m"}""", System.Text.Encoding.UTF8, "application/json"));
        posted.StatusCode.ShouldBe(HttpStatusCode.OK);
        await service.FlushAsync().WaitAsync(TimeSpan.FromSeconds(90));
        service.GetDeliveryStats().FailingSince.ShouldBe(clock.GetUtcNow());
        (await client.GetStringAsync("/healthz")).ShouldBe("Healthy"); // a blink is no news
        clock.Advance(TimeSpan.FromSeconds(31)); // past the check's default StreamFailingThreshold (30 s)

        HttpResponseMessage response = await client.GetAsync("/healthz");
        HealthReport report = await factory.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("Degraded");
        HealthReportEntry entry = report.Entries["immune"];
        entry.Description!.ShouldContain("the event stream has been failing for 31 s");
        entry.Data["stream_failing_seconds"].ShouldBe(31.0);
        entry.Data["stream_failing_since"].ShouldBe("2026-11-29T09:00:00.0000000+00:00");
    }

    /// <summary>A broker that is down.</summary>
    private sealed class DownStream : IEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
            => ValueTask.FromException(new IOException("connection refused"));
    }
}
