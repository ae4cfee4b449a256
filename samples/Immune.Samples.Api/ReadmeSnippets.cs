// The hosting and transport code shown in README.md, compiled with the samples so that the README cannot drift.
using Immune.Samples.Redis;
using StackExchange.Redis;

namespace Immune.Samples.Api;

internal static class ReadmeSnippets
{
    public static void Hosting(WebApplicationBuilder builder)
    {
        #region hosting
        builder.Services.AddImmune();
        builder.Services.AddHealthChecks().AddCheck<ImmuneHealthCheck>("immune");
        #endregion
    }

    public static void MapHealth(WebApplication app)
    {
        #region hosting-map
        app.MapHealthChecks("/healthz");
        #endregion
    }

    public static void Transport(WebApplicationBuilder builder)
    {
        #region transport
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisStreamEventStream.ConnectionOptions("localhost:6379")));
        builder.Services.AddSingleton<IEventStream, RedisStreamEventStream>();
        builder.Services.AddImmune();
        #endregion
    }
}
