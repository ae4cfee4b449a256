// The quick start of each package's README, verbatim (a test in tests/Immune.Samples.Tests checks it), compiled here
// against the packed packages alone.
using Immune.Nats;

namespace Immune.PackageSmoke;

internal static class ReadmeQuickStarts
{
    public static void Redis(WebApplicationBuilder builder)
    {
        // A service: every envelope goes to the stream immune:events, pipelined in batches.
        builder.Services.AddImmune(options => options.Source = "checkout");
        builder.Services.AddRedisStreams(options => options.ConnectionString = "localhost:6379");

        // A fleet host (Immune.Fleet.AspNetCore): the fleet feed, a consumer group that pages, the group's pager ledger.
        builder.Services.AddImmuneFleet().AddRedisStreams(options => options.ConnectionString = "localhost:6379");
    }

    public static void Nats(WebApplicationBuilder builder)
    {
        // A service: every envelope goes to immune.events.<type> in the stream IMMUNE, its id as Nats-Msg-Id.
        builder.Services.AddImmune(options => options.Source = "checkout");
        builder.Services.AddNatsJetStream(options => options.Url = "nats://localhost:4222");

        // A fleet host (Immune.Fleet.AspNetCore): the fleet feed, a durable consumer that pages, the key-value pager ledger.
        builder.Services.AddImmuneFleet().AddNatsJetStream(options => options.Url = "nats://localhost:4222");
    }

    public static void NatsShards(WebApplicationBuilder builder)
    {
        builder.Services.AddNatsJetStream(options =>
        {
            options.Url = "nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222";
            options.Shards = 4;   // streams IMMUNE_0 .. IMMUNE_3, subjects immune.events.<shard>.<type>
            options.Replicas = 3; // each stream kept by three servers
        });
    }

    public static void HealthChecks(WebApplicationBuilder builder, WebApplication app)
    {
        builder.Services.AddImmune(options => options.Source = "checkout");
        builder.Services.AddHealthChecks()
            .AddImmune(options => options.StreamFailingThreshold = TimeSpan.FromSeconds(30));
        app.MapHealthChecks("/healthz");
    }

    public static void Fleet(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddImmuneFleet(options => builder.Configuration.GetSection("Immune:Fleet").Bind(options))
            .AddRedisStreams(options => options.ConnectionString = "localhost:6379") // or .AddNatsJetStream(…)
            .AddPager<MyPager>();                                                     // optional: an IImmunePager of yours
        var app = builder.Build();
        app.MapImmuneFleet("/fleet").RequireAuthorization();
        app.MapHealthChecks("/healthz");
        app.Run();
    }

    private sealed class MyPager : IImmunePager
    {
        public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
