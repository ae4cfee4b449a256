using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Immune.Nats;

/// <summary>
/// Divides the shards among the live members of the group by leases in a JetStream key-value bucket
/// (<c>&lt;StreamName&gt;_LEASES</c>, entries kept <see cref="NatsJetStreamOptions.LeaseTtl"/>): a member writes
/// <c>member.&lt;id&gt;</c> at each turn, and holds a shard while the revision of <c>shard.&lt;n&gt;</c> it wrote last is
/// still the entry's (renewed at each turn by compare-and-set). Each member takes shards up to its share, ⌈shards ÷ live
/// members⌉, and gives back what is beyond it, so the shards spread as members come, and a dead member's shards, once
/// their entries have aged out of the bucket, go to the survivors at their next turn. A lease is not a fence: for a turn
/// two members may read one shard; the pager ledger's compare-and-set keeps a page single.
/// </summary>
internal sealed class NatsShardLeases
{
    private static readonly NatsUtf8PrimitivesSerializer<string> Text = NatsUtf8PrimitivesSerializer<string>.Default;
    private readonly INatsConnection _connection;
    private readonly NatsJetStreamOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ulong[] _held; // by shard: the revision this member last wrote to its lease; 0 when not held
    private INatsKVStore? _store;
    private long _lastTurn; // when the last turn started (a timestamp); 0 before the first

    public NatsShardLeases(INatsConnection connection, NatsJetStreamOptions options, TimeProvider timeProvider)
    {
        (_connection, _options, _timeProvider) = (connection, options, timeProvider);
        _held = new ulong[options.Shards];
        Member = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
    }

    /// <summary>Gets this member's id: its process id and a random part.</summary>
    public string Member { get; }

    /// <summary>Gets the bucket's name: the stream's, with <c>_LEASES</c>.</summary>
    public string Bucket => $"{_options.StreamName}_LEASES";

    /// <summary>Gets how often a member takes its turn: a quarter of the lease, at most a second.</summary>
    public TimeSpan TurnInterval => TimeSpan.FromTicks(Math.Min(_options.LeaseTtl.Ticks / 4, TimeSpan.TicksPerSecond));

    /// <summary>Whether this member held the shard's lease at its last turn.</summary>
    public bool Holds(int shard) => Volatile.Read(ref _held[shard]) != 0;

    /// <summary>Gets the shards this member holds.</summary>
    public IReadOnlyList<int> Held => [.. Enumerable.Range(0, _held.Length).Where(Holds)];

    /// <summary>Takes a turn when one is due.</summary>
    public async ValueTask IfDueAsync(CancellationToken cancellationToken)
    {
        if (_lastTurn == 0 || _timeProvider.GetElapsedTime(_lastTurn) >= TurnInterval)
        {
            _lastTurn = Math.Max(1, _timeProvider.GetTimestamp());
            await TurnAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One turn: says this member lives, renews what it holds, gives back what is beyond its share and takes up to it.</summary>
    public async Task TurnAsync(CancellationToken cancellationToken)
    {
        INatsKVStore store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        await store.PutAsync($"member.{Member}", Member, Text, cancellationToken).ConfigureAwait(false);
        for (int shard = 0; shard < _held.Length; shard++)
        {
            if (_held[shard] != 0)
            {
                Volatile.Write(ref _held[shard], await TryWriteAsync(store, shard, _held[shard], cancellationToken).ConfigureAwait(false) ?? 0); // lost: it aged out, or another took it
            }
        }

        int members = 0;
        await foreach (string key in store.GetKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            members += key.StartsWith("member.", StringComparison.Ordinal) ? 1 : 0;
        }

        int share = (_held.Length + Math.Max(1, members) - 1) / Math.Max(1, members);
        int held = _held.Count(revision => revision != 0);
        for (int shard = _held.Length - 1; shard >= 0 && held > share; shard--)
        {
            if (_held[shard] != 0)
            {
                ulong revision = _held[shard];
                Volatile.Write(ref _held[shard], 0);
                held--;
                await ReleaseAsync(store, shard, revision, cancellationToken).ConfigureAwait(false);
            }
        }

        int start = (int)((uint)Member.GetHashCode(StringComparison.Ordinal) % (uint)_held.Length); // members start apart
        for (int i = 0; i < _held.Length && held < share; i++)
        {
            int shard = (start + i) % _held.Length;
            if (_held[shard] == 0 && await FreeRevisionAsync(store, shard, cancellationToken).ConfigureAwait(false) is { } free
                && await TryWriteAsync(store, shard, free, cancellationToken).ConfigureAwait(false) is { } taken)
            {
                Volatile.Write(ref _held[shard], taken);
                held++;
            }
        }
    }

    /// <summary>Gives back every lease held, so the other members take the shards at their next turn rather than after the lease.</summary>
    public async Task ReleaseAllAsync(CancellationToken cancellationToken)
    {
        if (_store is not { } store)
        {
            return;
        }

        for (int shard = 0; shard < _held.Length; shard++)
        {
            ulong revision = Interlocked.Exchange(ref _held[shard], 0);
            if (revision != 0)
            {
                await ReleaseAsync(store, shard, revision, cancellationToken).ConfigureAwait(false);
            }
        }

        await store.DeleteAsync($"member.{Member}", cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string Key(int shard) => $"shard.{shard.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The revision a write must name to take a free shard (0 when its entry aged out or never was), or null when another member holds it.</summary>
    private static async Task<ulong?> FreeRevisionAsync(INatsKVStore store, int shard, CancellationToken cancellationToken)
    {
        try
        {
            await store.GetEntryAsync(Key(shard), serializer: Text, cancellationToken: cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (NatsKVKeyDeletedException deleted)
        {
            return deleted.Revision; // given back by its holder
        }
        catch (NatsKVKeyNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Writes this member into the shard's lease if its revision is still <paramref name="revision"/>; the new revision, or null when it was not.</summary>
    private async Task<ulong?> TryWriteAsync(INatsKVStore store, int shard, ulong revision, CancellationToken cancellationToken)
    {
        try
        {
            return await store.UpdateAsync(Key(shard), Member, revision, Text, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsKVWrongLastRevisionException)
        {
            return null;
        }
    }

    private static async Task ReleaseAsync(INatsKVStore store, int shard, ulong revision, CancellationToken cancellationToken)
    {
        try
        {
            await store.DeleteAsync(Key(shard), new NatsKVDeleteOpts { Revision = revision }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsKVWrongLastRevisionException)
        {
            // another member has it already
        }
    }

    private async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken)
        => _store ??= await new NatsKVContext(new NatsJSContext(_connection)).CreateOrUpdateStoreAsync(
            _options.BucketConfig(Bucket, _options.LeaseTtl),
            cancellationToken).ConfigureAwait(false);
}
