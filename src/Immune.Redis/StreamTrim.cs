using Immune.Internal;
using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// Trims a Redis stream without ever dropping what a consumer group still needs: below the lowest entry any group has
/// pending or not yet been handed (<c>XTRIM MINID ~</c>), and never below <see cref="RedisStreamsOptions.MinRetention"/>
/// ago, nor from the first entry the fleet feeds' open incidents need (<see cref="RedisRetentionFloors"/>), however old; a
/// stream without groups keeps <see cref="RedisStreamsOptions.UngroupedMaxLength"/> entries (<c>MAXLEN ~</c>: that
/// count is a bound on memory, and it wins over the floors).
/// One trim at a time, in the background, at most once per <see cref="RedisStreamsOptions.TrimInterval"/>; a trim that
/// fails is tried again at the next interval.
/// </summary>
internal sealed class StreamTrim(IConnectionMultiplexer redis, RedisStreamsOptions options, TimeProvider timeProvider)
{
    private readonly DueWork _due = new(options.TrimInterval, timeProvider);
    private readonly RedisRetentionFloors _floors = new(redis, options);

    /// <summary>Starts a trim when one is due and none is running; never waits for it.</summary>
    public void IfDue() => _due.IfDue(this, static trim => trim.RunAsync());

    /// <summary>Trims now.</summary>
    public async Task RunAsync()
    {
        IDatabase db = redis.GetDatabase();
        StreamGroupInfo[] groups;
        try
        {
            groups = await db.StreamGroupInfoAsync(options.StreamKey).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return; // no stream yet
        }

        if (groups.Length == 0)
        {
            await db.StreamTrimAsync(options.StreamKey, (int)Math.Min(int.MaxValue, options.UngroupedMaxLength), useApproximateMaxLength: true).ConfigureAwait(false);
            return;
        }

        long retainFrom = timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.MinRetention.TotalMilliseconds;
        StreamId keepFrom = new(Math.Max(0, retainFrom), 0);
        foreach (StreamGroupInfo group in groups)
        {
            StreamId needed = StreamId.Parse(group.LastDeliveredId);
            if (group.PendingMessageCount > 0)
            {
                StreamPendingInfo pending = await db.StreamPendingAsync(options.StreamKey, group.Name).ConfigureAwait(false);
                if (!pending.LowestPendingMessageId.IsNull)
                {
                    needed = StreamId.Min(needed, StreamId.Parse(pending.LowestPendingMessageId!));
                }
            }

            keepFrom = StreamId.Min(keepFrom, needed);
        }

        if (await OpenFloorAsync().ConfigureAwait(false) is { } open)
        {
            keepFrom = StreamId.Min(keepFrom, open); // what the fleet feeds' open incidents need stays, whatever was acknowledged or is old
        }

        if (keepFrom.Milliseconds > 0 || keepFrom.Sequence > 0)
        {
            await db.ExecuteAsync("XTRIM", options.StreamKey, "MINID", "~", keepFrom.ToString()).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The lowest floor of the fleet feeds; null when there is none, or when this producer's Redis user may not run
    /// scripts (<c>NOPERM</c>): the trim then goes on without the floors rather than not at all, so that the stream
    /// stays bounded.
    /// </summary>
    private async Task<StreamId?> OpenFloorAsync()
    {
        try
        {
            return await _floors.LowestAsync().ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOPERM", StringComparison.Ordinal))
        {
            return null;
        }
    }
}
