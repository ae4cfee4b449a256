namespace Immune;

/// <summary>
/// What a consumer group last sent to the pager for each dedup key, shared by every consumer of the group: an action is
/// sent only when it is later, in the event's own time, than the last one sent for its key, and the calls of one key
/// never overlap, so they reach the pager in time order and at most once. The broker packages keep it next to the
/// stream (a Redis hash, a JetStream key-value bucket) with a compare-and-set; <see cref="InMemoryPagerLedger"/> serves
/// a single consumer process.
/// </summary>
public interface IImmunePagerLedger
{
    /// <summary>
    /// Calls <paramref name="send"/> when <paramref name="action"/> is later than the last action sent for
    /// <paramref name="dedupKey"/>, and records it as sent once <paramref name="send"/> completed. A send that throws
    /// records nothing (the action stays unsent) and its exception is rethrown.
    /// </summary>
    /// <param name="dedupKey">The incident's key.</param>
    /// <param name="action"><c>trigger</c> or <c>resolve</c>.</param>
    /// <param name="at">The action's time in the event's own time (<c>critical_at</c>, <c>changed_at</c>).</param>
    /// <param name="envelopeId">The envelope the action comes from.</param>
    /// <param name="send">Sends the action to the pager.</param>
    /// <param name="cancellationToken">Cancels the wait for another consumer's call on the same key.</param>
    /// <returns>Whether the action was sent now; false for a redelivery, or one superseded by a later action already sent.</returns>
    Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken);
}
