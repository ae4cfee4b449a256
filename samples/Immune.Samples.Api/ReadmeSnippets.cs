// The hosting, transport and wire-format code shown in README.md, compiled with the samples; a test checks that
// every C# block of the README stands verbatim in a sample.
namespace Immune.Samples.Api;

internal static class ReadmeSnippets
{
    public static void Hosting(WebApplicationBuilder builder, WebApplication app)
    {
        builder.Services.AddImmune();
        builder.Services.AddHealthChecks().AddImmune();
        app.MapHealthChecks("/healthz");
    }

    public static void Transport(WebApplicationBuilder builder)
    {
        builder.Services.AddImmune(options => options.Source = "checkout");
        builder.Services.AddRedisStreams(options => options.ConnectionString = "localhost:6379");
    }

    public static void Spool(WebApplicationBuilder builder)
    {
        builder.Services.AddImmune(options =>
        {
            options.SpoolDirectory = "/var/lib/checkout/immune-spool"; // this service's own directory, never a shared temp path
            options.SpoolSyncInterval = TimeSpan.FromSeconds(1);        // what a power loss may take; a kill takes nothing
        });
    }

    public static (EventEnvelope Back, byte[] CloudEvent) WireFormat(EventEnvelope envelope)
    {
        byte[] utf8 = ImmuneJson.SerializeToUtf8Bytes(envelope);
        EventEnvelope back = ImmuneJson.DeserializeEnvelope(utf8); // for any invalid input: JsonException naming the property
        byte[] cloudEvent = ImmuneCloudEvents.SerializeToUtf8Bytes(envelope); // application/cloudevents+json
        return (back, cloudEvent);
    }

    public static ImmuneFleetSummary Fleet(IEnumerable<byte[]> entries)
    {
        var fleet = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 100_000 });
        foreach (byte[] entry in entries)
        {
            fleet.Apply(ImmuneJson.DeserializeEnvelope(entry)); // false for an envelope applied already: it counts once
        }

        ImmuneFleetSummary summary = fleet.GetHealthSummary(TimeSpan.FromMinutes(15));
        foreach (ImmuneSourceHealth source in summary.Sources)
        {
            Console.WriteLine($"{source.Source}: {source.Status}, {source.CriticalIssues} critical, {source.Instances} instances");
        }

        // The open incidents: every WARNING and CRITICAL event not resolved yet, whatever its age; CRITICAL first, newest first.
        foreach (ImmuneFleetIncident incident in fleet.GetIncidents(max: 20))
        {
            Console.WriteLine($"{incident.Severity} {incident.Source}/{incident.InstanceId} #{incident.EventId}: {incident.Message} (open since {incident.RecordedAt:u})");
        }

        return summary;
    }
}
