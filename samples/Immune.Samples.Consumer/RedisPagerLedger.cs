using StackExchange.Redis;

namespace Immune.Samples.Consumer;

/// <summary>
/// The <see cref="IPagerLedger"/> of a Redis consumer group: what it last sent for each dedup key, in a hash next to the
/// stream, so that every consumer of the group agrees: an action is sent only when it is later (in the event's own time, milliseconds on the wire) than the last
/// one sent for its key. A redelivery is not later, and neither is an action that a group handled after a newer one.
/// A per-key lock, held from the decision until the call returns, keeps the calls of one key in time order.
/// </summary>
public sealed class RedisPagerLedger(IConnectionMultiplexer redis, ImmuneStreamConsumerOptions options) : IPagerLedger
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

    /// <inheritdoc />
    public async Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken)
    {
        IDatabase db = redis.GetDatabase();
        RedisKey state = $"{options.StreamKey}:pager:{dedupKey}";
        RedisKey gate = $"{options.StreamKey}:pager-lock:{dedupKey}";
        string token = Guid.NewGuid().ToString("N");
        while (!await db.StringSetAsync(gate, token, LockFor, When.NotExists))
        {
            await Task.Delay(LockPoll, cancellationToken); // another consumer is sending for this key: the next decision waits for it
        }

        try
        {
            RedisResult claimed = await db.ScriptEvaluateAsync(ClaimScript, [state],
                [at.ToUnixTimeMilliseconds(), action, envelopeId, (long)options.DedupFor.TotalMilliseconds]);
            if (claimed.IsNull)
            {
                return false; // a redelivery, or superseded by a later action already sent
            }

            try
            {
                await send();
                return true;
            }
            catch
            {
                RedisResult[] last = (RedisResult[])claimed!;
                await db.ScriptEvaluateAsync(RollbackScript, [state], [envelopeId, (string?)last[0] ?? string.Empty, (string?)last[1] ?? string.Empty, (string?)last[2] ?? string.Empty]);
                throw;
            }
        }
        finally
        {
            await db.ScriptEvaluateAsync(UnlockScript, [gate], [token]);
        }
    }
}
