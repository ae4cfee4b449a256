namespace Immune.Samples.Api;

/// <summary>Logs every envelope that reaches the in-process stream: the embedded default, with no transport configured.</summary>
public sealed class EnvelopeLogger(InMemoryEventStream stream, ILogger<EnvelopeLogger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (EventEnvelope envelope in stream.ReadAllAsync(stoppingToken))
            {
                logger.LogInformation("Envelope {Envelope}", ImmuneJson.Serialize(envelope));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
