using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// One consumer of the stream's consumer group (<see cref="RedisStreamsOptions.Group"/>): the group's consumers share
/// the entries, each handled once. Each envelope goes to <see cref="ImmunePaging"/> (when paging is on) and is
/// acknowledged after; an entry that is no envelope is moved to <see cref="RedisStreamsOptions.DeadLetterKey"/> and
/// acknowledged, so it never blocks the rest. It creates the group (and the stream) when missing, and again when it
/// disappeared (<c>NOGROUP</c>, as after a Redis restart without persistence).
/// </summary>
/// <remarks>
/// <para>
/// Each read takes, in order: this consumer's own pending entries (those it could not finish: a page the pager did not
/// take stays pending here and goes when the pager answers), entries a dead consumer left pending longer than
/// <see cref="RedisStreamsOptions.ReclaimAfter"/> (<c>XAUTOCLAIM</c>), then new entries. Handling stops at the first
/// entry that fails, so what follows it stays pending, in order.
/// </para>
/// <para>
/// It tells how far behind the group is (<see cref="ImmuneFeedStatus.Lag"/>, <see cref="ImmuneFeedStatus.Pending"/>) and
/// counts entries it finds gone before the group read them (<see cref="ImmuneFeedStatus.Lost"/>): the producers' trim
/// never removes them, but an operator's <c>XTRIM</c> or Redis's own memory limits may.
/// </para>
/// </remarks>
public sealed class RedisConsumerGroup : ImmuneFeed
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisStreamsOptions _options;
    private readonly ImmunePaging? _paging;
    private bool _groupReady;

    /// <summary>Creates a consumer of the group.</summary>
    /// <param name="redis">The connection. Must not be null.</param>
    /// <param name="paging">Pages on-call for each envelope; null to consume without paging (dead letters and acknowledgements only).</param>
    /// <param name="options">The options; null for the defaults. The consumer keeps a copy.</param>
    /// <param name="logger">The logger; null for none.</param>
    /// <param name="timeProvider">The clock; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public RedisConsumerGroup(IConnectionMultiplexer redis, ImmunePaging? paging, RedisStreamsOptions? options = null, ILogger<RedisConsumerGroup>? logger = null, TimeProvider? timeProvider = null)
        : this(redis, paging, (options?.Clone() ?? new RedisStreamsOptions()).Validated(), logger, timeProvider, validated: true)
    {
    }

    private RedisConsumerGroup(IConnectionMultiplexer redis, ImmunePaging? paging, RedisStreamsOptions options, ILogger? logger, TimeProvider? timeProvider, bool validated)
        : base($"redis {options.StreamKey} group {options.Group} consumer {options.ConsumerName}", options.PollInterval, logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(redis);
        (_redis, _paging, _options) = (redis, paging, options);
    }

    /// <summary>Creates the group (and the stream) when missing; the group starts at the stream's beginning.</summary>
    /// <returns>A task that completes when the group exists.</returns>
    public async Task EnsureGroupAsync()
    {
        try
        {
            await _redis.GetDatabase().StreamCreateConsumerGroupAsync(_options.StreamKey, _options.Group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }

        _groupReady = true;
    }

    /// <inheritdoc />
    protected override async ValueTask<int> ReadAsync(CancellationToken cancellationToken)
    {
        if (!_groupReady)
        {
            await EnsureGroupAsync().ConfigureAwait(false);
        }

        try
        {
            return await ReadGroupAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal) || exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            _groupReady = false; // the stream or the group is gone: made again at the next read
            throw;
        }
    }

    private async Task<int> ReadGroupAsync(CancellationToken cancellationToken)
    {
        IDatabase db = _redis.GetDatabase();
        await CountLostAsync(db).ConfigureAwait(false);
        int handled = 0;

        // This consumer's own pending entries first: what it could not finish, in order.
        StreamEntry[] own = await db.StreamReadGroupAsync(_options.StreamKey, _options.Group, _options.ConsumerName, "0-0", _options.BatchSize).ConfigureAwait(false);
        ReportRead(); // the broker answered: fresh, whatever the pager does with what it gave
        handled += await HandleAsync(db, own, cancellationToken).ConfigureAwait(false);

        StreamAutoClaimResult reclaimed = await db.StreamAutoClaimAsync(
            _options.StreamKey, _options.Group, _options.ConsumerName, (long)_options.ReclaimAfter.TotalMilliseconds, "0-0", _options.BatchSize).ConfigureAwait(false);
        handled += await HandleAsync(db, reclaimed.ClaimedEntries, cancellationToken).ConfigureAwait(false);

        StreamEntry[] fresh = await db.StreamReadGroupAsync(_options.StreamKey, _options.Group, _options.ConsumerName, StreamPosition.NewMessages, _options.BatchSize).ConfigureAwait(false);
        handled += await HandleAsync(db, fresh, cancellationToken).ConfigureAwait(false);

        // Redis counts the entries a gap skipped as unread for good: take off what this consumer found lost.
        StreamGroupInfo group = await GroupAsync(db).ConfigureAwait(false);
        ReportBacklog(group.Lag is long lag ? Math.Max(0, lag - GetStatus().Lost) : null, group.PendingMessageCount);
        return handled;
    }

    /// <summary>Counts the entries gone from the stream before the group was handed them (before it reads on past the gap).</summary>
    private async Task CountLostAsync(IDatabase db)
    {
        StreamGroupInfo group = await GroupAsync(db).ConfigureAwait(false);
        if (group.EntriesRead is long read && await StreamState.ReadAsync(db, _options.StreamKey).ConfigureAwait(false) is { } state)
        {
            ReportLost(state.LostTo(StreamId.Parse(group.LastDeliveredId), read), _options.StreamKey);
        }
    }

    private async Task<StreamGroupInfo> GroupAsync(IDatabase db)
    {
        StreamGroupInfo[] groups = await db.StreamGroupInfoAsync(_options.StreamKey).ConfigureAwait(false);
        return groups.FirstOrDefault(g => g.Name == _options.Group) is { Name: not null } group
            ? group
            : throw new RedisServerException($"NOGROUP the group {_options.Group} of {_options.StreamKey} is gone");
    }

    /// <summary>Handles entries in order and acknowledges each; stops (throws) at the first that fails, so it and what follows stay pending.</summary>
    private async Task<int> HandleAsync(IDatabase db, StreamEntry[] entries, CancellationToken cancellationToken)
    {
        int handled = 0;
        foreach (StreamEntry entry in entries)
        {
            if (!entry.IsNull)
            {
                await HandleAsync(db, entry, cancellationToken).ConfigureAwait(false);
            }

            await db.StreamAcknowledgeAsync(_options.StreamKey, _options.Group, entry.Id).ConfigureAwait(false);
            handled++;
        }

        return handled;
    }

    private async Task HandleAsync(IDatabase db, StreamEntry entry, CancellationToken cancellationToken)
    {
        RedisValue json = entry["envelope"];
        EventEnvelope envelope;
        try
        {
            envelope = json.IsNull
                ? throw new JsonException("The entry has no envelope field.")
                : ImmuneJson.DeserializeEnvelope(((ReadOnlyMemory<byte>)json).Span);
        }
        catch (JsonException exception)
        {
            NameValueEntry[] dead = [new("entry_id", entry.Id), new("error", exception.Message), .. entry.Values];
            await db.StreamAddAsync(_options.DeadLetterKey, dead).ConfigureAwait(false);
            ReportDeadLettered(entry.Id!, _options.StreamKey, _options.DeadLetterKey, exception.Message);
            return;
        }

        if (_paging is not null)
        {
            await _paging.HandleAsync(envelope, cancellationToken).ConfigureAwait(false); // throws while the pager is down: the entry stays pending
        }
    }
}
