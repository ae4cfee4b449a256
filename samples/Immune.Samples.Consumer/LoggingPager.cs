namespace Immune.Samples.Consumer;

/// <summary>A pager that writes to the log: the sample's pager without a routing key. <see cref="PagerDutyPager"/> sends real pages.</summary>
public sealed class LoggingPager(ILogger<LoggingPager> logger) : IImmunePager
{
    /// <inheritdoc />
    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        logger.LogWarning("PAGE {DedupKey}: {Message}", dedupKey, envelope.Payload.Message);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        logger.LogInformation("RESOLVED {DedupKey}: now {Severity}", dedupKey, envelope.Payload.Severity);
        return Task.CompletedTask;
    }
}
