using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Immune.HealthChecks;

/// <summary>
/// A service's health from its immune summary and its delivery: Healthy when the window holds no WARNING or CRITICAL
/// event and the stream accepts envelopes; Degraded with a WARNING, or while the stream has been failing for longer than
/// <see cref="ImmuneHealthCheckOptions.StreamFailingThreshold"/> (envelopes are held, in order, meanwhile); Unhealthy
/// with a CRITICAL event. The worst wins, and the description and data say why. It reads memory only: it answers at once,
/// whatever the broker does.
/// </summary>
internal sealed class ImmuneHealthCheck(ImmuneService immune, ImmuneHealthCheckOptions options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ImmuneHealthSummary summary = immune.GetHealthSummary(options.Window);
        ImmuneDeliveryStats delivery = immune.GetDeliveryStats();
        var data = new Dictionary<string, object>
        {
            ["active_issues"] = summary.ActiveIssues,
            ["critical_issues"] = summary.CriticalIssues,
            ["window_minutes"] = summary.Window.TotalMinutes,
            ["envelopes_pending"] = delivery.Pending,
            ["envelopes_failed"] = delivery.Failed,
            ["envelopes_dropped"] = delivery.Dropped,
        };
        var reasons = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{summary.ActiveIssues} immune event(s), {summary.CriticalIssues} critical, in the last {summary.Window.TotalMinutes:0.#} minutes"),
        };

        HealthStatus status = summary.Status switch
        {
            ImmuneHealthStatus.Critical => options.CriticalIsUnhealthy ? HealthStatus.Unhealthy : HealthStatus.Degraded,
            ImmuneHealthStatus.Degraded => HealthStatus.Degraded,
            _ => HealthStatus.Healthy,
        };

        if (delivery.FailingSince is { } since)
        {
            TimeSpan failing = timeProvider.GetUtcNow() - since;
            data["stream_failing_since"] = since.ToString("O", CultureInfo.InvariantCulture);
            data["stream_failing_seconds"] = Math.Round(failing.TotalSeconds, 1);
            if (failing > options.StreamFailingThreshold)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"the event stream has been failing for {failing.TotalSeconds:0} s; {delivery.Pending} envelope(s) are held for delivery"));
                status = Worst(status, HealthStatus.Degraded);
            }
        }

        return Task.FromResult(new HealthCheckResult(status, string.Join("; ", reasons), data: data));
    }

    internal static HealthStatus Worst(HealthStatus a, HealthStatus b) => a < b ? a : b; // Unhealthy = 0, Degraded = 1, Healthy = 2
}
