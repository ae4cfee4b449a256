using Immune.Internal;
using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// What rebuilding the fleet's open incidents needs of the stream, in the hash <c>&lt;StreamKey&gt;:floors</c>: every
/// fleet feed writes the first entry id an open incident of its view needs (field: the feed; value: the id and when it
/// was written, by the server's clock), and the producers' trim keeps every entry from the lowest on. A floor lasts
/// <see cref="KeptFor"/> unless written again, so a feed that is gone stops holding the stream back; the hash itself
/// expires once no feed writes to it.
/// </summary>
internal sealed class RedisRetentionFloors(IConnectionMultiplexer redis, RedisStreamsOptions options)
{
    // One script writes (when given a feed) and reads, and both drop the floors older than KeptFor, so the hash holds
    // only the feeds that still write. The server's clock ages them: the feeds and the producers may run on machines
    // whose clocks differ. ARGV: the feed (or ''), its floor (or '' to take it away), KeptFor in milliseconds.
    private const string Script = """
        local now = redis.call('TIME')
        local ms = now[1] * 1000 + math.floor(now[2] / 1000)
        if ARGV[1] ~= '' then
          if ARGV[2] == '' then
            redis.call('HDEL', KEYS[1], ARGV[1])
          else
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. string.format('%d', ms))
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
          end
        end
        local fields = redis.call('HGETALL', KEYS[1])
        local live = {}
        for i = 1, #fields, 2 do
          local id, at = string.match(fields[i + 1], '^(%d+%-%d+) (%d+)$')
          if id == nil or ms - tonumber(at) > tonumber(ARGV[3]) then
            redis.call('HDEL', KEYS[1], fields[i])
          else
            live[#live + 1] = id
          end
        end
        return live
        """;

    /// <summary>Gets the hash's key: the stream's, with <c>:floors</c>.</summary>
    public RedisKey Key { get; } = options.StreamKey + ":floors";

    /// <summary>Gets how long a floor holds once its feed stops writing it: <see cref="RedisStreamsOptions.MinRetention"/>, and at least six trims.</summary>
    public TimeSpan KeptFor => OpenIncidentFloor.KeptFor(options.MinRetention, options.TrimInterval);

    /// <summary>Writes a feed's floor; null takes it away (the feed's view has no open incident).</summary>
    public Task WriteAsync(string feed, StreamId? floor) => RunAsync(feed, floor?.ToString() ?? string.Empty);

    /// <summary>The lowest floor of the feeds that wrote within <see cref="KeptFor"/>, or null when there is none; older floors are removed.</summary>
    public Task<StreamId?> LowestAsync() => RunAsync(string.Empty, string.Empty);

    private async Task<StreamId?> RunAsync(string feed, string floor)
    {
        RedisResult[] live = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Script, [Key], [feed, floor, (long)KeptFor.TotalMilliseconds]).ConfigureAwait(false))!;
        StreamId? lowest = null;
        foreach (RedisResult id in live)
        {
            StreamId each = StreamId.Parse((string?)id);
            lowest = lowest is { } l ? StreamId.Min(l, each) : each;
        }

        return lowest;
    }
}
