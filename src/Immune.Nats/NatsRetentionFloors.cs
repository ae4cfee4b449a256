using Immune.Internal;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Immune.Nats;

/// <summary>
/// What rebuilding the fleet's open incidents needs of each shard's stream, in the key-value bucket
/// <c>&lt;StreamName&gt;_FLOORS</c>: every fleet feed writes, per shard, the first stream sequence an open incident of
/// its view needs (<c>shard.&lt;n&gt;.&lt;reader&gt;</c>), and the producers' trim keeps every message from the lowest
/// floor of the shard on. An entry lasts <see cref="KeptFor"/> unless written again, so a reader that is gone stops
/// holding the stream back.
/// </summary>
internal sealed class NatsRetentionFloors(NatsJSContext js, NatsJetStreamOptions options)
{
    private static readonly NatsUtf8PrimitivesSerializer<string> Text = NatsUtf8PrimitivesSerializer<string>.Default;
    private INatsKVStore? _store;

    /// <summary>Gets the bucket's name: the stream's, with <c>_FLOORS</c>.</summary>
    public string Bucket => $"{options.StreamName}_FLOORS";

    /// <summary>Gets how long a floor holds once its reader stops writing it: <see cref="NatsJetStreamOptions.MinRetention"/>, and at least six trims.</summary>
    public TimeSpan KeptFor => OpenIncidentFloor.KeptFor(options.MinRetention, options.TrimInterval);

    /// <summary>Writes a reader's floor of a shard (creating the bucket once).</summary>
    public async Task WriteAsync(int shard, string reader, ulong floor, CancellationToken cancellationToken)
    {
        _store ??= await new NatsKVContext(js).CreateOrUpdateStoreAsync(
            options.BucketConfig(Bucket, KeptFor),
            cancellationToken).ConfigureAwait(false);
        await _store.PutAsync($"{Prefix(shard)}{reader}", floor.ToString(CultureInfo.InvariantCulture), Text, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lowest floor of a shard, or null when no reader wrote one (or there is no bucket).</summary>
    public async Task<ulong?> LowestAsync(int shard, CancellationToken cancellationToken)
    {
        try
        {
            _store ??= await new NatsKVContext(js).GetStoreAsync(Bucket, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException exception) when (exception.Error.Code == 404)
        {
            return null; // no fleet feed has written a floor yet
        }

        ulong? lowest = null;
        string prefix = Prefix(shard);
        var keys = new List<string>();
        await foreach (string key in _store.GetKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                keys.Add(key);
            }
        }

        foreach (string key in keys)
        {
            try
            {
                NatsKVEntry<string> entry = await _store.GetEntryAsync(key, serializer: Text, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (ulong.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong floor))
                {
                    lowest = lowest is { } l ? Math.Min(l, floor) : floor;
                }
            }
            catch (NatsKVKeyNotFoundException)
            {
                // aged out since it was listed
            }
        }

        return lowest;
    }

    private static string Prefix(int shard) => $"shard.{shard.ToString(CultureInfo.InvariantCulture)}.";
}
