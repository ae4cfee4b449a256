using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// What <c>XINFO STREAM</c> says of a stream that tells a reader whether entries it had not read are gone: how many
/// entries were ever added, how many are there, and the first one's id (Redis 7).
/// </summary>
internal readonly record struct StreamState(long Length, long EntriesAdded, StreamId FirstEntry)
{
    /// <summary>Reads the stream's state; null when there is no stream.</summary>
    public static async Task<StreamState?> ReadAsync(IDatabaseAsync db, RedisKey key)
    {
        RedisResult result;
        try
        {
            result = await db.ExecuteAsync("XINFO", "STREAM", key).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        long length = 0, added = -1;
        StreamId first = StreamId.Zero;
        RedisResult[] fields = (RedisResult[])result!;
        for (int i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string?)fields[i])
            {
                case "length": length = (long)fields[i + 1]; break;
                case "entries-added": added = (long)fields[i + 1]; break;
                case "recorded-first-entry-id": first = StreamId.Parse((string?)fields[i + 1]); break;
            }
        }

        return new StreamState(length, added < 0 ? length : added, first);
    }

    /// <summary>
    /// Gets how many entries a reader lost that read <paramref name="read"/> of those ever added and stands at
    /// <paramref name="position"/>: when the first entry there is beyond it, every entry between went unread and every
    /// entry left is unread, so the lost are those added but neither read nor there. Zero when nothing is lost.
    /// </summary>
    public long LostTo(StreamId position, long read)
        => Length > 0 && FirstEntry > position ? Math.Max(0, EntriesAdded - read - Length) : 0;
}
