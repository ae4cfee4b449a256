using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>
/// <c>MapImmuneFleet()</c>'s routes on a real port: the JSON as EVENTS.md names it, one rule for query numbers, HEAD
/// answered, the security headers on every fleet answer (a 401 of <c>.RequireAuthorization()</c> too) and on no other.
/// </summary>
public sealed class FleetEndpointsTests
{
    private static readonly string[] Pages = ["/", "/dashboard.js", "/dashboard.css"];
    private static readonly string[] Api = ["api/immune/fleet/health", "api/immune/fleet/incidents", "api/immune/fleet/rate"];

    [Fact]
    public async Task Health_AfterARead_SaysLiveWithTheOpenIncidentsAndTheWorstSourceFirst()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        fleet.Publish("search", 1, ImmuneSeverity.Warning);
        fleet.Publish("checkout", 1, ImmuneSeverity.Critical);
        fleet.Publish("billing", 1, ImmuneSeverity.Info);

        JsonElement health = await fleet.GetJsonAsync("api/immune/fleet/health");

        health.GetProperty("status").GetString().ShouldBe("CRITICAL");
        health.GetProperty("open_incidents").GetInt32().ShouldBe(2);
        health.GetProperty("open_critical_incidents").GetInt32().ShouldBe(1);
        health.GetProperty("incidents_evicted").GetInt64().ShouldBe(0);
        health.GetProperty("source_count").GetInt32().ShouldBe(3);
        health.GetProperty("active_issues").GetInt32().ShouldBe(3);
        health.GetProperty("counts_by_severity").GetProperty("CRITICAL").GetInt32().ShouldBe(1);
        health.GetProperty("window_minutes").GetDouble().ShouldBe(60);
        string[] sources = [.. health.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("source").GetString()!)];
        sources.ShouldBe(["checkout", "search"]); // those with open incidents, worst first
        health.GetProperty("sources_omitted").GetInt32().ShouldBe(1);
        JsonElement checkout = health.GetProperty("sources")[0];
        checkout.GetProperty("status").GetString().ShouldBe("CRITICAL");
        checkout.GetProperty("open_critical_incidents").GetInt32().ShouldBe(1);
        checkout.GetProperty("instances").GetInt32().ShouldBe(1);
        health.GetProperty("live").GetBoolean().ShouldBeTrue();
        health.GetProperty("last_read_at").GetDateTimeOffset().ShouldBe(FleetApp.Start);
        health.GetProperty("generated_at").GetDateTimeOffset().ShouldBe(FleetApp.Start);
        health.GetProperty("feeds")[0].GetProperty("name").GetString().ShouldBe("told");
        health.GetProperty("pager").ValueKind.ShouldBe(JsonValueKind.Null); // no pager registered

        JsonElement incidents = await fleet.GetJsonAsync("api/immune/fleet/incidents");
        incidents.GetArrayLength().ShouldBe(2);
        incidents[0].GetProperty("source").GetString().ShouldBe("checkout");
        incidents[0].GetProperty("severity").GetString().ShouldBe("CRITICAL");
        incidents[0].GetProperty("type").GetString().ShouldBe("POLICY_VIOLATION");
        incidents[0].GetProperty("last_seen_at").GetDateTimeOffset().ShouldBe(FleetApp.Start);
    }

    [Fact]
    public async Task Health_FeedCannotReadPastStaleAfter_NotLiveSinceItsLastRead_UntilItReadsAgain()
    {
        await using FleetApp fleet = await FleetApp.StartAsync(map: app =>
        {
            app.MapImmuneFleet();
            app.MapHealthChecks("/healthz");
        });
        fleet.Feed.Read = static () => throw new InvalidOperationException("broker unreachable");

        Task failed = fleet.Feed.NextRead;
        fleet.Time.Advance(TimeSpan.FromSeconds(31));
        await failed.WaitAsync(FleetApp.HangGuard);

        JsonElement health = await fleet.GetJsonAsync("api/immune/fleet/health");
        health.GetProperty("live").GetBoolean().ShouldBeFalse();
        health.GetProperty("last_read_at").GetDateTimeOffset().ShouldBe(FleetApp.Start); // not "now": the data is that old
        health.GetProperty("generated_at").GetDateTimeOffset().ShouldBe(FleetApp.Start.AddSeconds(31));
        JsonElement feed = health.GetProperty("feeds")[0];
        feed.GetProperty("last_error").GetString().ShouldNotBeNull().ShouldContain("broker unreachable");
        feed.GetProperty("failing_since").ValueKind.ShouldBe(JsonValueKind.String);
        (await fleet.Client.GetStringAsync("/healthz")).ShouldBe("Degraded");

        fleet.Feed.Read = static () => 0;
        Task read = fleet.Feed.NextRead;
        fleet.Time.Advance(TimeSpan.FromSeconds(30)); // past the longest backoff
        await read.WaitAsync(FleetApp.HangGuard);
        (await fleet.GetJsonAsync("api/immune/fleet/health")).GetProperty("live").GetBoolean().ShouldBeTrue();
        (await fleet.Client.GetStringAsync("/healthz")).ShouldBe("Healthy");
    }

    public static TheoryData<string, string, string> BadNumbers()
    {
        var data = new TheoryData<string, string, string>();
        string[] bad = ["+5", " 5", "5 ", "1.5", "1e3", "0x10", "0", "-1", "abc", "", "٥", "５", "99999999999", "2147483648"];
        foreach ((string path, string name) in new[] { ("api/immune/fleet/health", "minutes"), ("api/immune/fleet/health", "sources"), ("api/immune/fleet/incidents", "max"), ("api/immune/fleet/rate", "minutes") })
        {
            foreach (string value in bad)
            {
                data.Add(path, name, value);
            }
        }

        data.Add("api/immune/fleet/rate", "minutes", "1441");
        data.Add("api/immune/fleet/incidents", "max", "10001");
        data.Add("api/immune/fleet/health", "sources", "51"); // over the host's MaxSources
        return data;
    }

    [Theory]
    [MemberData(nameof(BadNumbers))]
    public async Task Endpoints_QueryNumberNotPlainDigitsInRange_400ProblemNamingIt(string path, string name, string value)
    {
        await using FleetApp fleet = await FleetApp.StartAsync();

        using HttpResponseMessage response = await fleet.Client.GetAsync($"{path}?{name}={Uri.EscapeDataString(value)}");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        JsonElement problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        problem.GetProperty("detail").GetString().ShouldNotBeNull().ShouldStartWith(name + " must be a whole number");
        problem.GetProperty("errors").GetProperty(name)[0].GetString().ShouldBe(problem.GetProperty("detail").GetString());
        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
    }

    [Fact]
    public async Task Endpoints_QueryNumberTwice_400_PlainDigitsInRange_200()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();

        (await fleet.Client.GetAsync("api/immune/fleet/rate?minutes=5&minutes=6")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await fleet.GetJsonAsync("api/immune/fleet/rate?minutes=5")).GetArrayLength().ShouldBe(5);
        (await fleet.GetJsonAsync("api/immune/fleet/rate?minutes=1440")).GetArrayLength().ShouldBe(1440);
        (await fleet.GetJsonAsync("api/immune/fleet/health?minutes=007&sources=50")).GetProperty("window_minutes").GetDouble().ShouldBe(7);
        (await fleet.GetJsonAsync("api/immune/fleet/incidents?max=10000")).GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task Head_EveryFleetRoute_HeadersOfTheGetWithoutABody()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        fleet.Publish("checkout", 1, ImmuneSeverity.Critical);

        foreach (string path in Pages.Concat(Api))
        {
            using HttpResponseMessage get = await fleet.Client.GetAsync(path);
            using HttpResponseMessage head = await fleet.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

            head.StatusCode.ShouldBe(HttpStatusCode.OK, path);
            (await head.Content.ReadAsByteArrayAsync()).ShouldBeEmpty(path);
            head.Content.Headers.ContentType.ShouldBe(get.Content.Headers.ContentType, path);
            head.Content.Headers.ContentLength.ShouldBe((await get.Content.ReadAsByteArrayAsync()).Length, path);
        }
    }

    [Fact]
    public async Task Pages_ServedFromTheAssembly_WithTheirTypes()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();

        using HttpResponseMessage page = await fleet.Client.GetAsync("/");
        page.Content.Headers.ContentType!.ToString().ShouldBe("text/html; charset=utf-8");
        (await page.Content.ReadAsStringAsync()).ShouldContain("<script src=\"dashboard.js\" defer></script>");
        (await fleet.Client.GetAsync("/dashboard.js")).Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript");
        (await fleet.Client.GetAsync("/dashboard.css")).Content.Headers.ContentType!.MediaType.ShouldBe("text/css");
    }

    [Fact]
    public async Task Headers_EveryFleetAnswer_401s400sAnd200s_AndNoneOfTheHostsOtherRoutes()
    {
        await using FleetApp fleet = await FleetApp.StartAsync(
            build: builder =>
            {
                builder.Services.AddAuthentication(KeyHandler.Name).AddScheme<AuthenticationSchemeOptions, KeyHandler>(KeyHandler.Name, null);
                builder.Services.AddAuthorization();
            },
            map: app =>
            {
                app.MapImmuneFleet("/fleet").RequireAuthorization();
                app.MapGet("/other", () => "other");
            });

        foreach (string path in new[] { "/fleet" }.Concat(Pages.Select(p => "/fleet" + p)).Concat(Api.Select(p => "/fleet/" + p)))
        {
            using HttpResponseMessage anonymous = await fleet.Client.GetAsync(path);
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
            ShouldBeSecured(anonymous, path);

            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add(KeyHandler.Header, KeyHandler.Key);
            using HttpResponseMessage signedIn = await fleet.Client.SendAsync(request);
            ((int)signedIn.StatusCode).ShouldBeOneOf([200, 302], path);
            ShouldBeSecured(signedIn, path);
        }

        using var bad = new HttpRequestMessage(HttpMethod.Get, "/fleet/api/immune/fleet/rate?minutes=x");
        bad.Headers.Add(KeyHandler.Header, KeyHandler.Key);
        using HttpResponseMessage problem = await fleet.Client.SendAsync(bad);
        problem.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        ShouldBeSecured(problem, "problem");

        using HttpResponseMessage other = await fleet.Client.GetAsync("/other");
        other.Headers.Contains("Content-Security-Policy").ShouldBeFalse();
    }

    [Fact]
    public async Task Prefix_WithoutItsSlash_RedirectsToThePage_WhoseRelativeLinksThenResolve()
    {
        await using FleetApp fleet = await FleetApp.StartAsync(map: app => app.MapImmuneFleet("/fleet"));
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(fleet.Address) };

        using HttpResponseMessage redirect = await client.GetAsync("/fleet?x=1");
        redirect.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        redirect.Headers.Location!.ToString().ShouldBe("/fleet/?x=1");
        (await client.GetAsync("/fleet/")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/fleet/dashboard.js")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await fleet.GetJsonAsync("/fleet/api/immune/fleet/health")).GetProperty("live").GetBoolean().ShouldBeTrue();
        (await client.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    private static void ShouldBeSecured(HttpResponseMessage response, string path)
    {
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("frame-ancestors 'none'", customMessage: path);
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'self'", customMessage: path);
        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"], path);
        response.Headers.GetValues("X-Frame-Options").ShouldBe(["DENY"], path);
    }

    /// <summary>Signs in whoever sends the key in a header.</summary>
    private sealed class KeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "key";
        public const string Header = "X-Fleet-Key";
        public const string Key = "s3cret";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
            => Task.FromResult(Request.Headers[Header] == Key
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "on-call")], Name)), Name))
                : AuthenticateResult.NoResult());
    }
}
