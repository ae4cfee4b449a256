namespace Immune.Samples.Consumer;

/// <summary>
/// Pages whoever is on call, and tells the pager when an incident is over. The consumer calls it in the event's own
/// time order per dedup key and at most once per envelope: a redelivery is never sent twice, and an action older than
/// one already sent for the same key (envelopes handled out of order by a group) is superseded and not sent, so the
/// pager always ends in the event's latest state.
/// </summary>
public interface IOnCallPager
{
    /// <summary>Pages for a CRITICAL immune event (an <c>immune.critical_event</c> envelope: a CRITICAL publish, or an escalation).</summary>
    /// <param name="dedupKey"><c>immune_critical_&lt;source&gt;_&lt;instance_id&gt;_&lt;event_id&gt;</c>: every escalation of one event has the same key, and no other event has it (a pager service groups them by it).</param>
    /// <param name="envelope">The <c>immune.critical_event</c> envelope.</param>
    /// <param name="cancellationToken">Cancels the page.</param>
    /// <returns>A task that completes when the page was sent; a failure leaves the entry to be retried.</returns>
    Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>Resolves the incident of <paramref name="dedupKey"/>: the event was changed from CRITICAL to a lower severity.</summary>
    /// <param name="dedupKey">The key its pages carried.</param>
    /// <param name="envelope">The <c>immune.severity_changed</c> envelope.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the resolution was sent; a failure leaves the entry to be retried.</returns>
    Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken);
}

/// <summary>A pager that writes to the log; the sample's default. <see cref="PagerDutyPager"/> sends real pages.</summary>
public sealed class LoggingPager(ILogger<LoggingPager> logger) : IOnCallPager
{
    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        logger.LogWarning("PAGE {DedupKey}: {Message}", dedupKey, envelope.Payload.Message);
        return Task.CompletedTask;
    }

    public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        logger.LogInformation("RESOLVED {DedupKey}: now {Severity}", dedupKey, envelope.Payload.Severity);
        return Task.CompletedTask;
    }
}
