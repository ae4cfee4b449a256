using System.Text.Json;
using StackExchange.Redis;

namespace Immune.Samples.Consumer;

/// <summary>
/// Reads the whole of <c>immune:events</c> (plain <c>XREAD</c>, no group) into an <see cref="ImmuneFleetView"/>. Paging
/// is work, split among a group's consumers; the fleet's health is state, and every process that answers for it needs
/// every envelope. The view applies an envelope once, so re-reading after a restart or a duplicate written by a
/// producer's retry counts nothing twice. After a Redis restart without persistence the stream is written anew with
/// ids from the current time, later than any read before, so the feed goes on where it was.
/// </summary>
public sealed class ImmuneFleetFeed(IConnectionMultiplexer redis, ImmuneFleetView fleet, ImmuneStreamConsumerOptions options, ILogger<ImmuneFleetFeed> logger) : IConsumerLoop
{
    private RedisValue _position = "0-0"; // the last entry read

    /// <summary>Applies the next entries of the stream to the view; returns how many entries were read.</summary>
    public async Task<int> ReadBatchAsync()
    {
        IDatabase db = redis.GetDatabase();
        StreamEntry[] entries = await db.StreamReadAsync(options.StreamKey, _position, options.BatchSize);
        foreach (StreamEntry entry in entries)
        {
            RedisValue json = entry["envelope"];
            try
            {
                if (!json.IsNull)
                {
                    fleet.Apply(ImmuneJson.DeserializeEnvelope(((ReadOnlyMemory<byte>)json).Span));
                }
            }
            catch (JsonException)
            {
                // Not an envelope: the paging consumers move it to the dead-letter stream; the view just skips it.
            }

            _position = entry.Id;
        }

        return entries.Length;
    }

    /// <summary>Runs until cancelled; a failing read is logged and retried after the poll interval.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => ConsumerLoop.RunAsync(
        _ => ReadBatchAsync(),
        static exception => exception is RedisException or TimeoutException,
        exception => logger.LogWarning(exception, "Reading {Stream} for the fleet view failed; retrying", options.StreamKey),
        options.PollInterval,
        cancellationToken);
}
