using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Immune.HealthChecks;

/// <summary>
/// A fleet consumer's health, from what its feeds and its paging report (<see cref="ImmuneFeed.GetStatus"/>,
/// <see cref="ImmunePaging.GetStatus"/>): Healthy while every feed read its broker within
/// <see cref="ImmuneFleetHealthCheckOptions.StaleAfter"/>, is no more than <see cref="ImmuneFleetHealthCheckOptions.LagThreshold"/>
/// behind and lost nothing, and the pager takes pages; Degraded otherwise, saying which and since when; Unhealthy when
/// no feed has ever read. It reads memory only, so it answers at once even while the broker is down — which it reports.
/// </summary>
internal sealed class ImmuneFleetHealthCheck(IEnumerable<ImmuneFeed> feeds, ImmunePaging? paging, ImmuneFleetHealthCheckOptions options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = timeProvider.GetUtcNow();
        var data = new Dictionary<string, object>();
        var problems = new List<string>();
        HealthStatus status = HealthStatus.Healthy;
        bool anyRead = false;
        foreach (ImmuneFeed feed in feeds)
        {
            ImmuneFeedStatus s = feed.GetStatus();
            anyRead |= s.LastReadAt is not null;
            var entry = new Dictionary<string, object?>
            {
                ["last_read_at"] = s.LastReadAt?.ToString("O", CultureInfo.InvariantCulture),
                ["failing_since"] = s.FailingSince?.ToString("O", CultureInfo.InvariantCulture),
                ["last_error"] = s.LastError,
                ["read"] = s.Read,
                ["lag"] = s.Lag,
                ["pending"] = s.Pending,
                ["lost"] = s.Lost,
            };
            data[s.Name] = entry;
            if (s.LastReadAt is not { } read)
            {
                problems.Add($"{s.Name} has not read its broker yet{(s.LastError is null ? "" : $" ({s.LastError})")}");
                status = HealthStatus.Degraded;
            }
            else if (now - read > options.StaleAfter)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{s.Name} has not read its broker since {read:O} ({(now - read).TotalSeconds:0} s){(s.LastError is null ? "" : $": {s.LastError}")}"));
                status = HealthStatus.Degraded;
            }

            if (s.Lag > options.LagThreshold)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{s.Name} is {s.Lag} entries behind"));
                status = HealthStatus.Degraded;
            }

            if (s.Lost > 0)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{s.Name} found {s.Lost} entries gone before it read them"));
                status = HealthStatus.Degraded;
            }
        }

        if (paging?.GetStatus() is { } pager)
        {
            data["pager"] = new Dictionary<string, object?>
            {
                ["sent"] = pager.Sent,
                ["refused"] = pager.Refused,
                ["failed"] = pager.Failed,
                ["failing_since"] = pager.FailingSince?.ToString("O", CultureInfo.InvariantCulture),
                ["last_problem"] = pager.LastProblem,
            };
            if (pager.FailingSince is { } since)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"the pager has not taken pages since {since:O}; they stay pending: {pager.LastProblem}"));
                status = HealthStatus.Degraded;
            }
        }

        if (!anyRead && problems.Count > 0)
        {
            status = HealthStatus.Unhealthy; // nothing shown comes from the broker at all
        }

        string description = problems.Count == 0 ? "The feeds read their brokers and the pager takes pages." : string.Join("; ", problems);
        return Task.FromResult(new HealthCheckResult(status, description, data: data));
    }
}
