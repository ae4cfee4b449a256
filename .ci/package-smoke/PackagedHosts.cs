using System.Net;
using System.Text.Json;
using Immune.Redis;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Immune.PackageSmoke;

/// <summary>The integration packages as a user's hosts use them.</summary>
internal static class PackagedHosts
{
    /// <summary>A service publishing through Immune.Redis with Immune.HealthChecks' check, its broker unreachable.</summary>
    public static async Task ProducerAsync(Action<bool, string> check)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddImmune(options => options.Source = "smoke");
        builder.Services.AddRedisStreams(options => options.ConnectionString = "127.0.0.1:1"); // nothing listens there
        builder.Services.AddHealthChecks().AddImmune();
        await using WebApplication app = builder.Build();
        app.MapHealthChecks("/healthz");
        await app.StartAsync();

        IImmuneService immune = app.Services.GetRequiredService<IImmuneService>();
        check(app.Services.GetRequiredService<IEventStream>() is RedisStreamsEventStream, "the Redis transport is the service's stream");
        long id = await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "smoke"));
        check(id == 1, "a publish returns at once with the broker down");
        HealthReport report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        check(report.Entries["immune"].Status == HealthStatus.Degraded, "the health check reports the WARNING");
        using var client = new HttpClient { BaseAddress = new Uri(Address(app)) };
        check(await client.GetStringAsync("/healthz") == "Degraded", "/healthz answers");
        await app.StopAsync();
    }

    /// <summary>A fleet host with Immune.Fleet.AspNetCore over Immune.Redis, its broker unreachable.</summary>
    public static async Task FleetHostAsync(Action<bool, string> check)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddImmuneFleet().AddRedisStreams(options => options.ConnectionString = "127.0.0.1:1");
        await using WebApplication app = builder.Build();
        app.MapImmuneFleet("/fleet");
        app.MapHealthChecks("/healthz");
        await app.StartAsync();

        using var client = new HttpClient { BaseAddress = new Uri(Address(app)) };
        HttpResponseMessage page = await client.GetAsync("/fleet/");
        check(page.StatusCode == HttpStatusCode.OK && (await page.Content.ReadAsStringAsync()).Contains("<title>Immune", StringComparison.Ordinal), "the dashboard is served from the package");
        check(page.Headers.Contains("Content-Security-Policy"), "with its security headers");
        using JsonDocument health = JsonDocument.Parse(await client.GetStringAsync("/fleet/api/immune/fleet/health"));
        check(!health.RootElement.GetProperty("live").GetBoolean(), "the fleet JSON says it is not live without its broker");
        check((await client.GetAsync("/fleet/api/immune/fleet/rate?minutes=+5")).StatusCode == HttpStatusCode.BadRequest, "a bad query is a 400");
        HttpResponseMessage healthz = await client.GetAsync("/healthz");
        check(healthz.StatusCode == HttpStatusCode.ServiceUnavailable && await healthz.Content.ReadAsStringAsync() == "Unhealthy", "the fleet host's health: no feed has read its broker");
        await app.StopAsync();
    }

    private static string Address(WebApplication app)
        => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
}
