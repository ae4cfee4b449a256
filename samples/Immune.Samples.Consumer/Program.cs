using System.Diagnostics.Metrics;
using Immune;
using OpenTelemetry.Metrics;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Immune.Samples.Consumer;
using Immune.Samples.Nats;
using Immune.Samples.Redis;
using NATS.Client.Core;
using StackExchange.Redis;

// Pages on-call from immune.critical_event (a consumer group: each entry handled once across replicas), and serves the
// fleet's health, its open incidents and a live dashboard at / (every replica reads every envelope into its own view).
// The broker is Redis Streams (the default) or NATS JetStream: Immune__Broker=nats and ConnectionStrings__Nats.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
var consumerOptions = new ImmuneStreamConsumerOptions
{
    StreamKey = builder.Configuration["Immune:StreamKey"] ?? "immune:events",
    ConsumerName = builder.Configuration["Immune:ConsumerName"] ?? Environment.MachineName,
};
builder.Services.AddSingleton(consumerOptions);
string broker = builder.Configuration["Immune:Broker"] ?? "redis";
if (string.Equals(broker, "nats", StringComparison.OrdinalIgnoreCase))
{
    string nats = builder.Configuration.GetConnectionString("Nats") ?? "nats://localhost:4222";
    builder.Services.AddSingleton<INatsConnection>(_ => new NatsConnection(NatsOpts.Default with { Url = nats, Name = "immune-consumer" }));
    builder.Services.AddSingleton(new NatsJetStreamOptions
    {
        StreamName = builder.Configuration["Immune:Nats:StreamName"] ?? "IMMUNE",
        SubjectPrefix = builder.Configuration["Immune:Nats:SubjectPrefix"] ?? "immune.events",
    });
    builder.Services.AddSingleton<IPagerLedger, NatsPagerLedger>();
    builder.Services.AddSingleton(sp => new EnvelopeHandler(sp.GetRequiredService<IOnCallPager>(), sp.GetRequiredService<IPagerLedger>(), sp.GetRequiredService<ConsumerMetrics>()));
    builder.Services.AddSingleton<NatsStreamConsumer>();
    builder.Services.AddSingleton<NatsFleetFeed>();
    builder.Services.AddSingleton<IConsumerLoop>(sp => sp.GetRequiredService<NatsStreamConsumer>());
    builder.Services.AddSingleton<IConsumerLoop>(sp => sp.GetRequiredService<NatsFleetFeed>());
    builder.Services.AddHealthChecks().AddCheck<NatsConsumerHealthCheck>("immune-consumer");
}
else if (string.Equals(broker, "redis", StringComparison.OrdinalIgnoreCase))
{
    string redis = builder.Configuration.GetConnectionString("Redis") ?? "localhost:6379";
    builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisStreamEventStream.ConnectionOptions(redis)));
    builder.Services.AddSingleton<ImmuneStreamConsumer>();
    builder.Services.AddSingleton<ImmuneFleetFeed>();
    builder.Services.AddSingleton<IConsumerLoop>(sp => sp.GetRequiredService<ImmuneStreamConsumer>());
    builder.Services.AddSingleton<IConsumerLoop>(sp => sp.GetRequiredService<ImmuneFleetFeed>());
    builder.Services.AddHealthChecks().AddCheck<ConsumerHealthCheck>("immune-consumer");
}
else
{
    throw new InvalidOperationException($"Immune:Broker must be 'redis' or 'nats' (was '{broker}').");
}

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

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(sp => new ImmuneFleetView(timeProvider: sp.GetRequiredService<TimeProvider>()));
builder.Services.AddHostedService<ConsumerWorker>();
builder.Services.ConfigureHttpJsonOptions(options => FleetHealthApi.Configure(options.SerializerOptions));
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
internal sealed class ConsumerWorker(IEnumerable<IConsumerLoop> loops) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(loops.Select(loop => loop.RunAsync(stoppingToken)));
}

/// <summary>The entry point; internal, so that tests referencing both samples see only the API sample's.</summary>
internal partial class Program;
