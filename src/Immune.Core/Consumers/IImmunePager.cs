namespace Immune;

/// <summary>
/// Pages whoever is on call, and tells the pager when an incident is over: the adapter to a paging service (PagerDuty,
/// Opsgenie, a webhook). <see cref="ImmunePaging"/> calls it in the event's own time order per dedup key, at most once
/// per envelope, whichever consumer of a group handles the envelope.
/// </summary>
/// <remarks>
/// A call that completes means the pager took it. Throw <see cref="ImmunePageRefusedException"/> when the pager refused
/// it for good (the request itself is wrong: HTTP 4xx other than 429): it is then neither recorded as sent nor tried
/// again. Any other exception means the pager could not be reached or was too busy (5xx, 429, a timeout): the action
/// stays pending and is sent when the pager answers again.
/// </remarks>
public interface IImmunePager
{
    /// <summary>Pages for a CRITICAL immune event: an <c>immune.critical_event</c> envelope (a CRITICAL publish, or an escalation).</summary>
    /// <param name="dedupKey">The incident's key (<see cref="ImmunePaging.DedupKey"/>): every escalation of one event has it, no other event does; at most 255 characters.</param>
    /// <param name="envelope">The <c>immune.critical_event</c> envelope.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the pager took the page.</returns>
    Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>Resolves the incident of <paramref name="dedupKey"/>: the event was changed from CRITICAL to a lower severity.</summary>
    /// <param name="dedupKey">The key its pages carried.</param>
    /// <param name="envelope">The <c>immune.severity_changed</c> envelope.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the pager took the resolution.</returns>
    Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken);
}
