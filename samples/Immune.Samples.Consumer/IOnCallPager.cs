namespace Immune.Samples.Consumer;

/// <summary>Pages whoever is on call. The consumer calls it once per escalation (<c>immune.critical_event</c> envelope), never twice for a redelivery.</summary>
public interface IOnCallPager
{
    /// <summary>Pages for a CRITICAL immune event.</summary>
    /// <param name="dedupKey"><c>immune_critical_&lt;source&gt;_&lt;instance_id&gt;_&lt;event_id&gt;</c>: every escalation of one event has the same key, and no other event has it (a pager service groups them by it).</param>
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
