using System.Collections.Concurrent;
using System.Text.Json;
using StackExchange.Redis;

namespace Immune.Samples.Consumer;

/// <summary>
/// Reads <c>immune:events</c> with a consumer group: pages on-call once per <c>immune.critical_event</c> (dedup key
/// <c>immune_critical_&lt;event_id&gt;</c>, remembered in Redis next to the stream so no redelivery pages twice), counts
/// <c>immune.event_published</c> by severity, acknowledges after handling, reclaims what a crashed consumer left
/// pending (<c>XAUTOCLAIM</c>), and moves malformed entries to a dead-letter stream instead of failing.
/// </summary>
public sealed class ImmuneStreamConsumer(IConnectionMultiplexer redis, IOnCallPager pager, ImmuneStreamConsumerOptions options, ILogger<ImmuneStreamConsumer> logger)
{
    private readonly ConcurrentDictionary<ImmuneSeverity, long> _published = new();

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

    /// <summary>Runs until cancelled; a failing batch is logged and retried after the poll interval.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await EnsureGroupAsync();
        while (!cancellationToken.IsCancellationRequested)
        {
            int handled;
            try
            {
                handled = await ProcessBatchAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                logger.LogWarning(exception, "Reading {Stream} failed; retrying", options.StreamKey);
                handled = 0;
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
            return;
        }

        switch (envelope.Type)
        {
            case ImmuneEventTypes.CriticalEvent:
                await PageOnceAsync(db, envelope, cancellationToken);
                break;
            case ImmuneEventTypes.EventPublished:
                _published.AddOrUpdate(envelope.Payload.Severity, 1, static (_, count) => count + 1);
                break;
        }

        await db.StreamAcknowledgeAsync(options.StreamKey, options.Group, entry.Id);
    }

    private async Task PageOnceAsync(IDatabase db, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        string dedupKey = $"immune_critical_{envelope.Payload.EventId}";
        var marker = new RedisKey($"{options.StreamKey}:paged:{dedupKey}");
        if (!await db.StringSetAsync(marker, envelope.Id, options.DedupFor, When.NotExists))
        {
            return; // paged already, by this consumer or another
        }

        try
        {
            await pager.PageAsync(dedupKey, envelope, cancellationToken);
        }
        catch
        {
            await db.KeyDeleteAsync(marker); // not paged after all: let the redelivery page
            throw;
        }
    }
}
