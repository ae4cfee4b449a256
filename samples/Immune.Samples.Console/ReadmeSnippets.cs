// The code shown in README.md, compiled with the samples so that the README cannot drift from the API.
using Immune;
using Microsoft.Extensions.DependencyInjection;

namespace Immune.Samples.Console;

internal static class ReadmeSnippets
{
    public static async Task QuickStartAsync()
    {
        #region quick-start
        var services = new ServiceCollection();
        services.AddSingleton<IEventStream, ConsoleEventStream>(); // your transport
        services.AddImmune(options => options.Source = "checkout_service");

        await using ServiceProvider provider = services.BuildServiceProvider();
        IImmuneService immune = provider.GetRequiredService<IImmuneService>();

        long id = await immune.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "Token reused")
        {
            AgentId = "auth-gateway",
            Meta = new Dictionary<string, object?> { ["user"] = 1234, ["countries"] = new[] { "DE", "BR" } },
        });

        ImmuneHealthSummary health = immune.GetHealthSummary(TimeSpan.FromMinutes(15));
        System.Console.WriteLine($"event {id}: {health.Status}, {health.CriticalIssues} critical of {health.ActiveIssues}");
        #endregion
    }

    public static async Task ChangeSeverityAsync(IImmuneService immune, long id)
    {
        #region change-severity
        await immune.ChangeSeverityAsync(id, ImmuneSeverity.Critical); // escalate: severity_changed, then critical_event
        await immune.ChangeSeverityAsync(id, ImmuneSeverity.Info);     // resolve: severity_changed
        #endregion
    }
}

#region event-stream
/// <summary>An <see cref="IEventStream"/> over whatever bus the app has; here, standard output.</summary>
public sealed class ConsoleEventStream : IEventStream
{
    public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        byte[] json = ImmuneJson.SerializeToUtf8Bytes(envelope);          // the wire format of EVENTS.md
        await System.Console.OpenStandardOutput().WriteAsync(json, cancellationToken);
        await System.Console.Out.WriteLineAsync();
        // Throw on failure: the service counts, logs and retries; the caller never sees it.
    }
}
#endregion
