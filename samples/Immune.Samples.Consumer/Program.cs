using System.Diagnostics.Metrics;
using Immune;
using OpenTelemetry.Metrics;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using StackExchange.Redis;

// Pages on-call from immune.critical_event (a consumer group: each entry handled once across replicas), and serves the
// fleet's health, its open incidents and a live dashboard at / (every replica reads every envelope into its own view).
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
string redis = builder.Configuration.GetConnectionString("Redis") ?? "localhost:6379";
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisStreamEventStream.ConnectionOptions(redis)));
builder.Services.AddSingleton(new ImmuneStreamConsumerOptions
{
    StreamKey = builder.Configuration["Immune:StreamKey"] ?? "immune:events",
    ConsumerName = builder.Configuration["Immune:ConsumerName"] ?? Environment.MachineName,
});
PagerDutyOptions pagerDuty = builder.Configuration.GetSection("Immune:Pager").Get<PagerDutyOptions>() ?? new PagerDutyOptions();
if (string.IsNullOrWhiteSpace(pagerDuty.RoutingKey))
{
    builder.Services.AddSingleton<IOnCallPager, LoggingPager>();
}
else
{
    // Immune__Pager__RoutingKey (and Immune__Pager__Url for anything but PagerDuty itself): Events API v2 pages.
    builder.Services.AddSingleton(pagerDuty);
    builder.Services.AddHttpClient<IOnCallPager, PagerDutyPager>(http => http.Timeout = TimeSpan.FromSeconds(10));
}

builder.Services.AddSingleton<ImmuneStreamConsumer>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(sp => new ImmuneFleetView(timeProvider: sp.GetRequiredService<TimeProvider>()));
builder.Services.AddSingleton<ImmuneFleetFeed>();
builder.Services.AddHostedService<ConsumerWorker>();
builder.Services.ConfigureHttpJsonOptions(options => FleetHealthApi.Configure(options.SerializerOptions));
builder.Services.AddHealthChecks().AddCheck<ConsumerHealthCheck>("immune-consumer");
builder.Services.AddSingleton(sp => new ConsumerMetrics(sp.GetRequiredService<ImmuneFleetView>(), sp.GetRequiredService<IMeterFactory>()));
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(ConsumerMetrics.MeterName).AddPrometheusExporter());

// Incident messages can be sensitive: Immune:RequireAuthorization=true puts the page, its JSON and /metrics behind
// the host's authorization (a bearer token here; use your own scheme). /healthz stays open for probes.
bool secured = builder.Configuration.GetValue<bool>("Immune:RequireAuthorization");
if (secured)
{
    builder.Services.AddAuthentication(BearerTokenDefaults.AuthenticationScheme).AddBearerToken();
    builder.Services.AddAuthorization();
}

WebApplication app = builder.Build();
app.MapHealthChecks("/healthz", new() { ResponseWriter = ConsumerHealthCheck.WriteAsync });
if (secured)
{
    app.MapImmuneFleet().RequireAuthorization(); // the dashboard, its JSON and /metrics; /healthz stays open for probes
}
else
{
    app.MapImmuneFleet();
}

app.Run();

/// <summary>Runs the paging consumer and the fleet feed for the life of the host.</summary>
internal sealed class ConsumerWorker(ImmuneStreamConsumer consumer, ImmuneFleetFeed feed) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(consumer.RunAsync(stoppingToken), feed.RunAsync(stoppingToken));
}

/// <summary>The entry point; internal, so that tests referencing both samples see only the API sample's.</summary>
internal partial class Program;
