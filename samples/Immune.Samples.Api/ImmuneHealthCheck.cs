using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Immune.Samples.Api;

/// <summary>
/// An ASP.NET Core health check over the immune summary and the delivery to the event stream: Healthy when the window
/// holds no WARNING or CRITICAL event and the stream accepts envelopes; Degraded with a WARNING, or while the stream has
/// been failing for longer than <see cref="StreamFailingThreshold"/> (envelopes are held, in order, meanwhile);
/// Unhealthy (HTTP 503 from <c>MapHealthChecks</c>) with a CRITICAL event. The worst of the two wins, and the data says why.
/// Copy this file into an app and register it with <c>services.AddHealthChecks().AddCheck&lt;ImmuneHealthCheck&gt;("immune")</c>.
/// </summary>
public sealed class ImmuneHealthCheck(ImmuneService immune, TimeProvider? timeProvider = null) : IHealthCheck
{
    /// <summary>The window the check looks at: long enough to span a scrape interval, short enough to recover after an incident.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How long the stream may fail before the check reports Degraded: 30 seconds. A broker restart or failover takes
    /// seconds and the service rides it out without losing anything (only noise would come of reporting it), but an
    /// outage that outlasts two scrape intervals is one the people watching should see well before envelopes start
    /// to run out of their two-minute delivery timeout.
    /// </summary>
    public static readonly TimeSpan StreamFailingThreshold = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ImmuneHealthSummary summary = immune.GetHealthSummary(Window);
        ImmuneDeliveryStats delivery = immune.GetDeliveryStats();
        var data = new Dictionary<string, object>
        {
            ["active_issues"] = summary.ActiveIssues,
            ["critical_issues"] = summary.CriticalIssues,
            ["window_minutes"] = summary.Window.TotalMinutes,
            ["envelopes_pending"] = delivery.Pending,
        };
        var reasons = new List<string>
        {
            $"{summary.ActiveIssues} immune event(s), {summary.CriticalIssues} critical, in the last {summary.Window.TotalMinutes:0} minutes",
        };

        HealthStatus status = summary.Status switch
        {
            ImmuneHealthStatus.Critical => HealthStatus.Unhealthy,
            ImmuneHealthStatus.Degraded => HealthStatus.Degraded,
            _ => HealthStatus.Healthy,
        };

        if (delivery.FailingSince is { } since)
        {
            TimeSpan failing = _time.GetUtcNow() - since;
            data["stream_failing_since"] = since.ToString("O", CultureInfo.InvariantCulture);
            data["stream_failing_seconds"] = Math.Round(failing.TotalSeconds, 1);
            if (failing > StreamFailingThreshold)
            {
                reasons.Add($"the event stream has been failing for {failing.TotalSeconds:0} s; {delivery.Pending} envelope(s) are held for delivery");
                status = status == HealthStatus.Unhealthy ? status : HealthStatus.Degraded;
            }
        }

        return Task.FromResult(new HealthCheckResult(status, string.Join("; ", reasons), data: data));
    }
}
