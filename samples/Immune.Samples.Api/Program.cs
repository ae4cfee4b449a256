using Immune;
using Immune.Samples.Api;
using OpenTelemetry.Metrics;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// Transport: Redis Streams (ConnectionStrings__Redis=host:port) or NATS JetStream (ConnectionStrings__Nats=nats://host:port)
// when a connection string is configured, the rest of their options from Immune:Redis or Immune:Nats; else in-process.
string? redis = builder.Configuration.GetConnectionString("Redis");
string? nats = builder.Configuration.GetConnectionString("Nats");
if (!string.IsNullOrWhiteSpace(nats))
{
    builder.Services.AddNatsJetStream(options =>
    {
        options.Url = nats;
        builder.Configuration.GetSection("Immune:Nats").Bind(options);
    });
}
else if (!string.IsNullOrWhiteSpace(redis))
{
    builder.Services.AddRedisStreams(options =>
    {
        options.ConnectionString = redis;
        builder.Configuration.GetSection("Immune:Redis").Bind(options);
    });
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
builder.Services.AddHealthChecks().AddImmune(); // Degraded while the stream fails for over 30 s, Unhealthy with a CRITICAL event
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
