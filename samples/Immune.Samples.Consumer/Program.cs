using Immune;
using Immune.Samples.Consumer;
using OpenTelemetry.Metrics;

// Watches the fleet: reads the broker's stream into the fleet view, pages on-call for each escalation, and serves the
// dashboard with its JSON at /, the Immune.Fleet meter at /metrics and the host's health at /healthz.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
IConfiguration config = builder.Configuration;
IImmuneFleetBuilder fleet = builder.Services.AddImmuneFleet(options => config.GetSection("Immune:Fleet").Bind(options));

// Immune__Broker=redis (the default; ConnectionStrings__Redis) or nats (ConnectionStrings__Nats); the rest of each
// broker's options from Immune:Redis or Immune:Nats (StreamKey, ConsumerName, Group, ...).
string broker = config["Immune:Broker"] ?? "redis";
if (broker == "redis")
{
    fleet.AddRedisStreams(options =>
    {
        options.ConnectionString = config.GetConnectionString("Redis") ?? "localhost:6379";
        config.GetSection("Immune:Redis").Bind(options);
    });
}
else if (broker == "nats")
{
    fleet.AddNatsJetStream(options =>
    {
        options.Url = config.GetConnectionString("Nats") ?? "nats://localhost:4222";
        config.GetSection("Immune:Nats").Bind(options);
    });
}
else
{
    throw new InvalidOperationException($"Immune:Broker must be 'redis' or 'nats' (was '{broker}').");
}

// Immune__Pager__RoutingKey (and Immune__Pager__Url for anything but PagerDuty itself) sends real pages.
PagerDutyOptions pagerDuty = config.GetSection("Immune:Pager").Get<PagerDutyOptions>() ?? new PagerDutyOptions();
if (string.IsNullOrWhiteSpace(pagerDuty.RoutingKey))
{
    fleet.AddPager<LoggingPager>();
}
else
{
    builder.Services.AddSingleton(pagerDuty);
    builder.Services.AddHttpClient(PagerDutyPager.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
    fleet.AddPager<PagerDutyPager>();
}

builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("Immune.Fleet").AddPrometheusExporter());

// Incident messages can be sensitive: Immune__FleetKey puts the page, its JSON and /metrics behind a sign-in
// (FleetKeyAuthentication; use your own scheme). /healthz stays open for probes.
string? key = config["Immune:FleetKey"];
if (key is not null)
{
    if (key.Length < 16) throw new InvalidOperationException("Immune:FleetKey must be at least 16 characters.");
    builder.Services.AddAuthentication(FleetKeyAuthentication.SchemeName)
        .AddScheme<FleetKeyOptions, FleetKeyAuthentication>(FleetKeyAuthentication.SchemeName, options => options.Key = key);
    builder.Services.AddAuthorization();
}

WebApplication app = builder.Build();
app.MapHealthChecks("/healthz");
if (key is not null)
{
    app.MapImmuneFleet().RequireAuthorization(); // the dashboard and its JSON
    app.MapPrometheusScrapingEndpoint().RequireAuthorization();
}
else
{
    app.MapImmuneFleet();
    app.MapPrometheusScrapingEndpoint();
}

app.Run();

/// <summary>The entry point; internal, so that tests referencing both samples see only the API sample's.</summary>
internal partial class Program;
