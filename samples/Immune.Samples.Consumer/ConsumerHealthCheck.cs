using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Immune.Samples.Consumer;

/// <summary>
/// The consumer's own health at <c>/healthz</c>: Redis answers, the group can be read, and how far the group is behind
/// the stream (<c>lag</c>: entries not yet delivered to any consumer of the group; <c>pending</c>: delivered but not
/// acknowledged). Unhealthy when Redis does not answer or the group cannot be read; Degraded when the lag passes
/// <see cref="LagThreshold"/>.
/// </summary>
public sealed class ConsumerHealthCheck(IConnectionMultiplexer redis, ImmuneStreamConsumerOptions options) : IHealthCheck
{
    /// <summary>The lag beyond which the consumer reports Degraded.</summary>
    public const long LagThreshold = 10_000;

    /// <summary>Writes the report as JSON: the overall status, and each check's status, description and data.</summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        });
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IDatabase db = redis.GetDatabase();
        try
        {
            TimeSpan ping = await db.PingAsync();
            StreamGroupInfo[] groups = await db.StreamGroupInfoAsync(options.StreamKey);
            if (groups.FirstOrDefault(g => g.Name == options.Group) is not { Name: not null } group)
            {
                return HealthCheckResult.Unhealthy($"The group '{options.Group}' of '{options.StreamKey}' does not exist yet.",
                    data: new Dictionary<string, object> { ["stream"] = options.StreamKey, ["group"] = options.Group });
            }

            var data = new Dictionary<string, object>
            {
                ["stream"] = options.StreamKey,
                ["group"] = options.Group,
                ["redis_ping_ms"] = Math.Round(ping.TotalMilliseconds, 3),
                ["lag"] = group.Lag ?? -1, // -1: Redis cannot tell (entries were trimmed or deleted past the group)
                ["pending"] = group.PendingMessageCount,
                ["consumers"] = group.ConsumerCount,
            };
            return group.Lag > LagThreshold
                ? HealthCheckResult.Degraded($"The group is {group.Lag} entries behind the stream.", data: data)
                : HealthCheckResult.Healthy("Redis answers and the group is readable.", data);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return HealthCheckResult.Unhealthy($"The stream '{options.StreamKey}' and its group '{options.Group}' do not exist yet.",
                data: new Dictionary<string, object> { ["stream"] = options.StreamKey, ["group"] = options.Group });
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer or the stream cannot be read.", exception,
                new Dictionary<string, object> { ["stream"] = options.StreamKey, ["group"] = options.Group });
        }
    }
}
