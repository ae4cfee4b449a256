using Immune.Samples.Nats;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Immune.Samples.Consumer;

/// <summary>
/// The consumer's health at <c>/healthz</c> on NATS: the server answers, the durable consumer exists, and how far it is
/// behind the stream (<c>lag</c>: messages not yet delivered to the group; <c>pending</c>: delivered, not acknowledged).
/// Unhealthy when the server or the consumer cannot be reached; Degraded past <see cref="ConsumerHealthCheck.LagThreshold"/>.
/// </summary>
public sealed class NatsConsumerHealthCheck(INatsConnection connection, NatsJetStreamOptions stream, ImmuneStreamConsumerOptions options) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["stream"] = stream.StreamName, ["group"] = options.Group };
        try
        {
            TimeSpan ping = await connection.PingAsync(cancellationToken);
            INatsJSConsumer consumer = await new NatsJSContext((NatsConnection)connection).GetConsumerAsync(stream.StreamName, options.Group, cancellationToken);
            data["nats_ping_ms"] = Math.Round(ping.TotalMilliseconds, 3);
            data["lag"] = (long)consumer.Info.NumPending;
            data["pending"] = consumer.Info.NumAckPending;
            return (long)consumer.Info.NumPending > ConsumerHealthCheck.LagThreshold
                ? HealthCheckResult.Degraded($"The group is {consumer.Info.NumPending} messages behind the stream.", data: data)
                : HealthCheckResult.Healthy("NATS answers and the group is readable.", data);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("NATS does not answer, or the stream or its group does not exist yet.", exception, data);
        }
    }
}
