using StackExchange.Redis;

namespace Immune.Samples.Consumer;

/// <summary>
/// Reads <c>immune:events</c> with a consumer group: pages on-call for each escalation (an <c>immune.critical_event</c>
/// envelope) and resolves the page when the event is changed from CRITICAL to a lower severity, under the dedup key
/// <c>immune_critical_&lt;source&gt;_&lt;instance_id&gt;_&lt;event_id&gt;</c> (the event's fleet identity). Every action is
/// sent at most once and in the event's own time order per key, whichever consumer of the group handles it
/// (<see cref="RedisPagerLedger"/>): a redelivery never pages twice, a re-escalation after a resolution pages again, and an
/// action older than one already sent is superseded. It also counts <c>immune.event_published</c> by severity;
/// acknowledges after handling; reclaims what a crashed consumer left pending (<c>XAUTOCLAIM</c>); moves malformed
/// entries to a dead-letter stream instead of failing; and re-creates its group when the stream or group disappeared
/// (<c>NOGROUP</c>, e.g. after a Redis restart without persistence). The fleet's health is read by <see cref="ImmuneFleetFeed"/>.
/// </summary>
public sealed class ImmuneStreamConsumer(IConnectionMultiplexer redis, IOnCallPager pager, ImmuneStreamConsumerOptions options, ILogger<ImmuneStreamConsumer> logger, ConsumerMetrics? metrics = null) : IConsumerLoop
{
    private readonly EnvelopeHandler _handler = new(pager, new RedisPagerLedger(redis, options), metrics);

    /// <summary>Gets how many <c>immune.event_published</c> envelopes this consumer handled, per severity.</summary>
    public IReadOnlyDictionary<ImmuneSeverity, long> PublishedBySeverity => _handler.PublishedBySeverity;

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
        await ConsumerLoop.RunAsync(
            async token =>
            {
                int handled = await ProcessOrRecoverAsync(token);
                if (handled > 0)
                {
                    logger.LogInformation(
                        "Handled {Handled} entries; immune.event_published so far: {Info} INFO, {Warning} WARNING, {Critical} CRITICAL",
                        handled,
                        PublishedBySeverity.GetValueOrDefault(ImmuneSeverity.Info),
                        PublishedBySeverity.GetValueOrDefault(ImmuneSeverity.Warning),
                        PublishedBySeverity.GetValueOrDefault(ImmuneSeverity.Critical));
                }

                return handled;
            },
            static exception => exception is RedisException or TimeoutException,
            exception => logger.LogWarning(exception, "Reading {Stream} failed; retrying", options.StreamKey),
            options.PollInterval,
            cancellationToken);
    }

    private async Task HandleAsync(IDatabase db, StreamEntry entry, CancellationToken cancellationToken)
    {
        RedisValue json = entry["envelope"];
        if (await _handler.HandleAsync(json.IsNull ? null : (ReadOnlyMemory<byte>)json, cancellationToken) is { } malformed)
        {
            logger.LogError("Malformed entry {EntryId} moved to {DeadLetter}: {Reason}", entry.Id, options.DeadLetterKey, malformed);
            NameValueEntry[] dead = [new("entry_id", entry.Id), new("error", malformed), .. entry.Values];
            await db.StreamAddAsync(options.DeadLetterKey, dead);
        }

        await db.StreamAcknowledgeAsync(options.StreamKey, options.Group, entry.Id);
    }

    /// <summary>The paging dedup key: the event's fleet identity, since event ids restart at 1 in every producer process.</summary>
    public static string DedupKey(EventEnvelope envelope) => EnvelopeHandler.DedupKey(envelope);
}
