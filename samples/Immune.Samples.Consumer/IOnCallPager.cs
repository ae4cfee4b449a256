namespace Immune.Samples.Consumer;

/// <summary>Pages whoever is on call. The consumer calls it at most once per dedup key.</summary>
public interface IOnCallPager
{
    /// <summary>Pages for a CRITICAL immune event.</summary>
    /// <param name="dedupKey"><c>immune_critical_&lt;source&gt;_&lt;instance_id&gt;_&lt;event_id&gt;</c>: the same incident always has the same key, and no other incident has it.</param>
    /// <param name="envelope">The <c>immune.critical_event</c> envelope.</param>
    /// <param name="cancellationToken">Cancels the page.</param>
    /// <returns>A task that completes when the page was sent.</returns>
    Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken);
}

/// <summary>A pager that writes to the log; replace it with PagerDuty, Opsgenie, …</summary>
public sealed class LoggingPager(ILogger<LoggingPager> logger) : IOnCallPager
{
    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        logger.LogWarning("PAGE {DedupKey}: {Message}", dedupKey, envelope.Payload.Message);
        return Task.CompletedTask;
    }
}
