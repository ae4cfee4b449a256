using Immune;
using Microsoft.Extensions.DependencyInjection;

var services = new ServiceCollection();
services.AddSingleton<IEventStream, ConsoleEventStream>(); // your transport
services.AddImmune(options => options.Source = "checkout_service");

await using ServiceProvider provider = services.BuildServiceProvider();
IImmuneService immune = provider.GetRequiredService<IImmuneService>();

long id = await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.PolicyViolation, "Token reused")
{
    AgentId = "auth-gateway",
    Meta = new Dictionary<string, object?> { ["user"] = 1234, ["countries"] = new[] { "DE", "BR" } },
});

await immune.ChangeSeverityAsync(id, ImmuneSeverity.Critical); // escalate: severity_changed, then critical_event
await immune.ChangeSeverityAsync(id, ImmuneSeverity.Info);     // resolve: severity_changed

ImmuneHealthSummary health = immune.GetHealthSummary(TimeSpan.FromMinutes(15));
Console.WriteLine($"event {id}: {health.Status}, {health.CriticalIssues} critical of {health.ActiveIssues}");

public sealed class ConsoleEventStream : IEventStream
{
    public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        byte[] json = ImmuneJson.SerializeToUtf8Bytes(envelope);          // the wire format of EVENTS.md
        await Console.OpenStandardOutput().WriteAsync(json, cancellationToken);
        await Console.Out.WriteLineAsync();
    }
}
