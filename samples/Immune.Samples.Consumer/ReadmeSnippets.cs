// The fleet host code shown in README.md, compiled with the samples; a test checks that every C# block of the README
// stands verbatim in a sample.
namespace Immune.Samples.Consumer;

internal static class ReadmeSnippets
{
    public static void FleetHost(WebApplicationBuilder builder, WebApplication app)
    {
        builder.Services.AddImmuneFleet()
            .AddRedisStreams(options => options.ConnectionString = "localhost:6379")
            .AddPager<PagerDutyPager>();
        app.MapImmuneFleet().RequireAuthorization();
        app.MapHealthChecks("/healthz");
    }
}
