using System.Collections.Concurrent;
using System.Text.Json;
using StackExchange.Redis;

namespace Immune.Samples.Consumer;

/// <summary>
/// Reads <c>immune:events</c> with a consumer group: pages on-call for each escalation (an <c>immune.critical_event</c>
/// envelope) and resolves the page when the event is changed from CRITICAL to a lower severity, under the dedup key
/// <c>immune_critical_&lt;source&gt;_&lt;instance_id&gt;_&lt;event_id&gt;</c> (the event's fleet identity). Every action is
/// sent at most once and in the event's own time order per key, whichever consumer of the group handles it
/// (<see cref="PagerLedger"/>): a redelivery never pages twice, a re-escalation after a resolution pages again, and an
/// action older than one already sent is superseded. It also counts <c>immune.event_published</c> by severity;
/// acknowledges after handling; reclaims what a crashed consumer left pending (<c>XAUTOCLAIM</c>); moves malformed
/// entries to a dead-letter stream instead of failing; and re-creates its group when the stream or group disappeared
/// (<c>NOGROUP</c>, e.g. after a Redis restart without persistence). The fleet's health is read by <see cref="ImmuneFleetFeed"/>.
/// </summary>
public sealed class ImmuneStreamConsumer(IConnectionMultiplexer redis, IOnCallPager pager, ImmuneStreamConsumerOptions options, ILogger<ImmuneStreamConsumer> logger, ConsumerMetrics? metrics = null)
{
    private readonly ConcurrentDictionary<ImmuneSeverity, long> _published = new();
    private readonly PagerLedger _ledger = new(redis, options);

    /// <summary>Gets how many <c>immune.event_published</c> envelopes this consumer handled, per severity.</summary>
    public IReadOnlyDictionary<ImmuneSeverity, long> PublishedBySeverity => _published;

    /// <summary>Creates the consumer group (and the stream) when missing.</summary>
    public async Task EnsureGroupAsync()
    {
        try
        {
            await redis.GetDatabase().StreamCreateConsumerGroupAsync(options.StreamKey, options.Group, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    /// <summary>Handles what others left pending too long, then new entries; returns how many entries were handled.</summary>
    public async Task<int> ProcessBatchAsync(CancellationToken cancellationToken = default)
    {
        IDatabase db = redis.GetDatabase();
        StreamAutoClaimResult reclaimed = await db.StreamAutoClaimAsync(
            options.StreamKey, options.Group, options.ConsumerName, (long)options.ReclaimAfter.TotalMilliseconds, "0-0", options.BatchSize);
        int handled = 0;
        foreach (StreamEntry entry in reclaimed.ClaimedEntries)
        {
            if (!entry.IsNull)
            {
                await HandleAsync(db, entry, cancellationToken);
                handled++;
            }
        }

        StreamEntry[] fresh = await db.StreamReadGroupAsync(options.StreamKey, options.Group, options.ConsumerName, StreamPosition.NewMessages, options.BatchSize);
        foreach (StreamEntry entry in fresh)
        {
            await HandleAsync(db, entry, cancellationToken);
            handled++;
        }

        return handled;
    }

    /// <summary>
    /// Handles one batch (<see cref="ProcessBatchAsync"/>); when the group or the stream is gone (<c>NOGROUP</c>),
    /// re-creates the group and goes on.
    /// </summary>
    public async Task<int> ProcessOrRecoverAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await ProcessBatchAsync(cancellationToken);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            logger.LogWarning("The consumer group {Group} of {Stream} is gone; re-creating it", options.Group, options.StreamKey);
            await EnsureGroupAsync();
            return await ProcessBatchAsync(cancellationToken);
        }
    }

    /// <summary>Runs until cancelled; a failing batch is logged and retried after the poll interval.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await EnsureGroupAsync();
        while (!cancellationToken.IsCancellationRequested)
        {
            int handled;
            try
            {
                handled = await ProcessOrRecoverAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                logger.LogWarning(exception, "Reading {Stream} failed; retrying", options.StreamKey);
                handled = 0;
            }

            if (handled > 0)
            {
                logger.LogInformation(
                    "Handled {Handled} entries; immune.event_published so far: {Info} INFO, {Warning} WARNING, {Critical} CRITICAL",
                    handled,
                    _published.GetValueOrDefault(ImmuneSeverity.Info),
                    _published.GetValueOrDefault(ImmuneSeverity.Warning),
                    _published.GetValueOrDefault(ImmuneSeverity.Critical));
            }

            if (handled == 0)
            {
                await Task.Delay(options.PollInterval, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task HandleAsync(IDatabase db, StreamEntry entry, CancellationToken cancellationToken)
    {
        EventEnvelope envelope;
        try
        {
            RedisValue json = entry["envelope"];
            if (json.IsNull)
            {
                throw new JsonException("The entry has no 'envelope' field.");
            }

            envelope = ImmuneJson.DeserializeEnvelope(((ReadOnlyMemory<byte>)json).Span);
        }
        catch (JsonException exception)
        {
            logger.LogError(exception, "Malformed entry {EntryId} moved to {DeadLetter}", entry.Id, options.DeadLetterKey);
            NameValueEntry[] dead = [new("entry_id", entry.Id), new("error", exception.Message), .. entry.Values];
            await db.StreamAddAsync(options.DeadLetterKey, dead);
            await db.StreamAcknowledgeAsync(options.StreamKey, options.Group, entry.Id);
            metrics?.DeadLettered();
            return;
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

        await db.StreamAcknowledgeAsync(options.StreamKey, options.Group, entry.Id);
    }

    /// <summary>Sends a pager action once per envelope and in the event's time order per key (<see cref="PagerLedger"/>).</summary>
    private async Task SendOnceAsync(string action, DateTimeOffset at, EventEnvelope envelope, Func<string, EventEnvelope, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        string dedupKey = DedupKey(envelope);
        if (await _ledger.SendOnceAsync(dedupKey, action, at, envelope.Id, () => send(dedupKey, envelope, cancellationToken), cancellationToken))
        {
            metrics?.Paged(action);
        }
    }

    /// <summary>The paging dedup key: the event's fleet identity, since event ids restart at 1 in every producer process.</summary>
    public static string DedupKey(EventEnvelope envelope)
        => $"immune_critical_{envelope.Source}_{envelope.Meta.InstanceId ?? "-"}_{envelope.Payload.EventId}";
}
