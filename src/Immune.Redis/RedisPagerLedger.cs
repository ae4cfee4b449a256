using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// The <see cref="IImmunePagerLedger"/> of a Redis consumer group: what the group last sent for each dedup key, in a hash
/// next to the stream (<c>&lt;stream&gt;:pager:&lt;key&gt;</c>, kept <see cref="RedisStreamsOptions.DedupFor"/>), so every
/// consumer of the group agrees: an action is sent only when it is later, in the event's own time (milliseconds on the
/// wire), than the last one sent for its key. A per-key lock, held from the decision until the pager answered (at most
/// 30 seconds, should its holder die), keeps the calls of one key in time order; the claim is a compare-and-set in a
/// script, and a failed call puts back what was there.
/// </summary>
public sealed class RedisPagerLedger : IImmunePagerLedger
{
    private static readonly TimeSpan LockFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(20);

    // Takes the key when the action is later than the last one sent; returns what was there, for a rollback.
    private const string ClaimScript = """
        local last = redis.call('HMGET', KEYS[1], 'at', 'action', 'id')
        if last[1] and tonumber(last[1]) >= tonumber(ARGV[1]) then return false end
        redis.call('HSET', KEYS[1], 'at', ARGV[1], 'action', ARGV[2], 'id', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return { last[1] or '', last[2] or '', last[3] or '' }
        """;

    // Puts back what was there when the call this claim was for failed, unless another claim came since.
    private const string RollbackScript = """
        if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
        if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('HSET', KEYS[1], 'at', ARGV[2], 'action', ARGV[3], 'id', ARGV[4]) end
        return 1
        """;

    private const string UnlockScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisStreamsOptions _options;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the ledger of the stream's group.</summary>
    /// <param name="redis">The connection. Must not be null.</param>
    /// <param name="options">The options; null for the defaults. The ledger keeps a copy.</param>
    /// <param name="timeProvider">The clock of the waits for another consumer's call; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public RedisPagerLedger(IConnectionMultiplexer redis, RedisStreamsOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _options = (options?.Clone() ?? new RedisStreamsOptions()).Validated();
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public async Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dedupKey);
        ArgumentNullException.ThrowIfNull(send);
        IDatabase db = _redis.GetDatabase();
        RedisKey state = $"{_options.StreamKey}:pager:{dedupKey}";
        RedisKey gate = $"{_options.StreamKey}:pager-lock:{dedupKey}";
        string token = Guid.NewGuid().ToString("N");
        while (!await db.StringSetAsync(gate, token, LockFor, When.NotExists).ConfigureAwait(false))
        {
            await Task.Delay(LockPoll, _timeProvider, cancellationToken).ConfigureAwait(false); // another consumer is sending for this key
        }

        try
        {
            RedisResult claimed = await db.ScriptEvaluateAsync(ClaimScript, [state],
                [at.ToUnixTimeMilliseconds(), action, envelopeId, (long)_options.DedupFor.TotalMilliseconds]).ConfigureAwait(false);
            if (claimed.IsNull)
            {
                return false; // a redelivery, or superseded by a later action already sent
            }

            try
            {
                await send().ConfigureAwait(false);
                return true;
            }
            catch
            {
                RedisResult[] last = (RedisResult[])claimed!;
                await db.ScriptEvaluateAsync(RollbackScript, [state], [envelopeId, (string?)last[0] ?? string.Empty, (string?)last[1] ?? string.Empty, (string?)last[2] ?? string.Empty]).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            await db.ScriptEvaluateAsync(UnlockScript, [gate], [token]).ConfigureAwait(false);
        }
    }
}
