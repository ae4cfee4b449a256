using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Immune.Samples.Api;

/// <summary>
/// An ASP.NET Core health check over the immune summary: Healthy when the window holds no WARNING or CRITICAL event,
/// Degraded with a WARNING, Unhealthy (HTTP 503 from <c>MapHealthChecks</c>) with a CRITICAL one.
/// Copy this file into an app and register it with <c>services.AddHealthChecks().AddCheck&lt;ImmuneHealthCheck&gt;("immune")</c>.
/// </summary>
public sealed class ImmuneHealthCheck(IImmuneService immune) : IHealthCheck
{
    /// <summary>The window the check looks at: long enough to span a scrape interval, short enough to recover after an incident.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ImmuneHealthSummary summary = immune.GetHealthSummary(Window);
        var data = new Dictionary<string, object>
        {
            ["active_issues"] = summary.ActiveIssues,
            ["critical_issues"] = summary.CriticalIssues,
            ["window_minutes"] = summary.Window.TotalMinutes,
        };
        string description = $"{summary.ActiveIssues} immune event(s), {summary.CriticalIssues} critical, in the last {summary.Window.TotalMinutes:0} minutes";
        return Task.FromResult(summary.Status switch
        {
            ImmuneHealthStatus.Critical => HealthCheckResult.Unhealthy(description, data: data),
            ImmuneHealthStatus.Degraded => HealthCheckResult.Degraded(description, data: data),
            _ => HealthCheckResult.Healthy(description, data),
        });
    }
}
