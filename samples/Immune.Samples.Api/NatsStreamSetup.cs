using Immune.Samples.Nats;

namespace Immune.Samples.Api;

/// <summary>
/// Creates the JetStream stream (or brings it to the sample's settings) when the host starts. A server that is down
/// then is logged, not fatal: publishes fail and are retried by the Immune service until the stream is there.
/// </summary>
internal sealed class NatsStreamSetup(NatsJetStreamEventStream stream, ILogger<NatsStreamSetup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await stream.EnsureStreamAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is NATS.Client.Core.NatsException or TimeoutException)
        {
            logger.LogWarning(exception, "The JetStream stream {Stream} could not be created or checked; publishes are retried until it exists", stream.Options.StreamName);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
