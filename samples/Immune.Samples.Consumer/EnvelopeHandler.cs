using System.Collections.Concurrent;
using System.Text.Json;

namespace Immune.Samples.Consumer;

/// <summary>
/// What a consumer of the group does with one entry, whichever broker it came from: reads the envelope, triggers a page
/// for each escalation (<c>immune.critical_event</c>) and resolves it when the event drops from CRITICAL (both at most
/// once and in the event's time order per key, through the <see cref="IPagerLedger"/>), counts
/// <c>immune.event_published</c> by severity, and says when the entry is malformed so that the caller dead-letters it.
/// </summary>
public sealed class EnvelopeHandler(IOnCallPager pager, IPagerLedger ledger, ConsumerMetrics? metrics = null)
{
    private readonly ConcurrentDictionary<ImmuneSeverity, long> _published = new();

    /// <summary>Gets how many <c>immune.event_published</c> envelopes were handled, per severity.</summary>
    public IReadOnlyDictionary<ImmuneSeverity, long> PublishedBySeverity => _published;

    /// <summary>Handles one entry's envelope document.</summary>
    /// <param name="json">The <see cref="ImmuneJson"/> document, or null when the entry has none.</param>
    /// <param name="cancellationToken">Cancels the pager call.</param>
    /// <returns>Null when handled; otherwise why the entry is malformed (the caller moves it aside and acknowledges it).</returns>
    public async Task<string?> HandleAsync(ReadOnlyMemory<byte>? json, CancellationToken cancellationToken)
    {
        EventEnvelope envelope;
        try
        {
            envelope = json is { } document
                ? ImmuneJson.DeserializeEnvelope(document.Span)
                : throw new JsonException("The entry has no envelope.");
        }
        catch (JsonException exception)
        {
            metrics?.DeadLettered();
            return exception.Message;
        }

        metrics?.Handled(envelope.Type);
        switch (envelope.Payload)
        {
            case ImmuneCriticalEventPayload critical:
                await SendOnceAsync("trigger", critical.CriticalAt, envelope, pager.PageAsync, cancellationToken);
                break;
            case ImmuneSeverityChangedPayload { PreviousSeverity: ImmuneSeverity.Critical, Severity: not ImmuneSeverity.Critical } resolved:
                await SendOnceAsync("resolve", resolved.ChangedAt, envelope, pager.ResolveAsync, cancellationToken);
                break;
            case ImmuneEventPublishedPayload:
                _published.AddOrUpdate(envelope.Payload.Severity, 1, static (_, count) => count + 1);
                break;
        }

        return null;
    }

    /// <summary>The paging dedup key: the event's fleet identity, since event ids restart at 1 in every producer process.</summary>
    public static string DedupKey(EventEnvelope envelope)
        => $"immune_critical_{envelope.Source}_{envelope.Meta.InstanceId ?? "-"}_{envelope.Payload.EventId}";

    private async Task SendOnceAsync(string action, DateTimeOffset at, EventEnvelope envelope, Func<string, EventEnvelope, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        string dedupKey = DedupKey(envelope);
        if (await ledger.SendOnceAsync(dedupKey, action, at, envelope.Id, () => send(dedupKey, envelope, cancellationToken), cancellationToken))
        {
            metrics?.Paged(action);
        }
    }
}

/// <summary>
/// What a consumer group last sent to the pager for each dedup key, shared by every consumer of the group: an action is
/// sent only when it is later (in the event's own time) than the last one sent for its key, and the calls of one key
/// never overlap, so they reach the pager in time order.
/// </summary>
public interface IPagerLedger
{
    /// <summary>
    /// Sends <paramref name="action"/> through <paramref name="send"/> when it is later than the last action sent for
    /// <paramref name="dedupKey"/>; returns whether it was sent. A failed send changes nothing and is rethrown.
    /// </summary>
    Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken);
}
