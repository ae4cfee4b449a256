using Immune;
using OpenTelemetry.Metrics;
using Immune.Samples.Api;
using Immune.Samples.Nats;
using Immune.Samples.Redis;
using NATS.Client.Core;
using StackExchange.Redis;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// Transport: Redis Streams (ConnectionStrings__Redis=host:port) or NATS JetStream (ConnectionStrings__Nats=nats://host:port)
// when a connection string is configured, else in-process.
string? redis = builder.Configuration.GetConnectionString("Redis");
string? nats = builder.Configuration.GetConnectionString("Nats");
if (!string.IsNullOrWhiteSpace(nats))
{
    builder.Services.AddSingleton<INatsConnection>(_ => new NatsConnection(NatsOpts.Default with { Url = nats, Name = "immune-api" }));
    builder.Services.AddSingleton(new NatsJetStreamOptions
    {
        StreamName = builder.Configuration["Immune:Nats:StreamName"] ?? "IMMUNE",
        SubjectPrefix = builder.Configuration["Immune:Nats:SubjectPrefix"] ?? "immune.events",
    });
    builder.Services.AddSingleton<NatsJetStreamEventStream>();
    builder.Services.AddSingleton<IEventStream>(sp => sp.GetRequiredService<NatsJetStreamEventStream>());
    builder.Services.AddHostedService<NatsStreamSetup>();
}
else if (!string.IsNullOrWhiteSpace(redis))
{
    builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisStreamEventStream.ConnectionOptions(redis)));
    builder.Services.AddSingleton<IEventStream>(sp => new RedisStreamEventStream(
        sp.GetRequiredService<IConnectionMultiplexer>(),
        new RedisStreamOptions { StreamKey = builder.Configuration["Immune:StreamKey"] ?? "immune:events" }));
}
else
{
    builder.Services.AddSingleton<InMemoryEventStream>();
    builder.Services.AddSingleton<IEventStream>(sp => sp.GetRequiredService<InMemoryEventStream>());
    builder.Services.AddHostedService<EnvelopeLogger>();
}

builder.Services.AddImmune(options =>
{
    options.Source = builder.Configuration["Immune:Source"] ?? ImmuneOptions.DefaultSource;
    options.FoldWindow = builder.Configuration.GetValue("Immune:FoldWindow", TimeSpan.Zero); // e.g. Immune__FoldWindow=00:00:10
});
builder.Services.AddHealthChecks().AddCheck<ImmuneHealthCheck>("immune");
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("Immune").AddPrometheusExporter()); // Immune's own meter at /metrics
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(options => ImmuneApi.Configure(options.SerializerOptions));

WebApplication app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapImmuneApi();
app.MapHealthChecks("/healthz");
app.MapPrometheusScrapingEndpoint();
app.Run();

/// <summary>The entry point, visible to the tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
