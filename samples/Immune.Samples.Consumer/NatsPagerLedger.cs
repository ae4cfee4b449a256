using System.Globalization;
using System.Text;
using Immune.Samples.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Immune.Samples.Consumer;

/// <summary>
/// The <see cref="IPagerLedger"/> of a NATS consumer group: one JetStream key-value entry per dedup key holding the last
/// action sent (its time, name and envelope id) and, while a consumer is calling the pager for that key, its claim.
/// Every change is a compare-and-set on the entry's revision, so two consumers never both decide; a claim older than
/// 30 seconds (its consumer died mid-call) may be taken over.
/// </summary>
public sealed class NatsPagerLedger(INatsConnection connection, NatsJetStreamOptions stream, ImmuneStreamConsumerOptions options, TimeProvider timeProvider) : IPagerLedger
{
    private static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ClaimPoll = TimeSpan.FromMilliseconds(20);
    private static readonly NatsUtf8PrimitivesSerializer<string> Text = NatsUtf8PrimitivesSerializer<string>.Default;
    private readonly SemaphoreSlim _open = new(1, 1);
    private INatsKVStore? _store;

    /// <summary>Gets the key-value bucket's name: the stream's, with <c>_PAGER</c>.</summary>
    public string Bucket => $"{stream.StreamName}_PAGER";

    /// <inheritdoc />
    public async Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken)
    {
        INatsKVStore store = await StoreAsync(cancellationToken);
        string key = Convert.ToBase64String(Encoding.UTF8.GetBytes(dedupKey)).Replace('+', '-').Replace('/', '_');
        string token = Guid.NewGuid().ToString("N");
        long atMs = at.ToUnixTimeMilliseconds();
        State last;
        ulong revision;
        while (true)
        {
            (last, revision) = await ReadAsync(store, key, cancellationToken);
            if (last.Claimed(timeProvider.GetUtcNow()))
            {
                await Task.Delay(ClaimPoll, timeProvider, cancellationToken); // another consumer is calling the pager for this key
                continue;
            }

            if (last.At >= atMs)
            {
                return false; // a redelivery, or superseded by a later action already sent
            }

            var claimed = new State(atMs, action, envelopeId, token, timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            if (await TryWriteAsync(store, key, claimed, revision, cancellationToken) is { } claimedRevision)
            {
                revision = claimedRevision;
                break;
            }
        }

        State done;
        try
        {
            await send();
            done = new State(atMs, action, envelopeId, string.Empty, 0);
        }
        catch
        {
            await TryWriteAsync(store, key, last with { Token = string.Empty, ClaimedAt = 0 }, revision, CancellationToken.None); // not sent after all
            throw;
        }

        await TryWriteAsync(store, key, done, revision, CancellationToken.None);
        return true;
    }

    private async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store)
        {
            return store;
        }

        await _open.WaitAsync(cancellationToken);
        try
        {
            var kv = new NatsKVContext(new NatsJSContext((NatsConnection)connection));
            return _store ??= await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(Bucket) { History = 1, MaxAge = options.DedupFor, Storage = NatsKVStorageType.File }, cancellationToken);
        }
        finally
        {
            _open.Release();
        }
    }

    private static async Task<(State State, ulong Revision)> ReadAsync(INatsKVStore store, string key, CancellationToken cancellationToken)
    {
        try
        {
            NatsKVEntry<string> entry = await store.GetEntryAsync(key, serializer: Text, cancellationToken: cancellationToken);
            return (State.Parse(entry.Value), entry.Revision);
        }
        catch (NatsKVKeyNotFoundException)
        {
            return (State.None, 0); // revision 0: the write that follows creates the entry, unless another consumer did first
        }
    }

    private static async Task<ulong?> TryWriteAsync(INatsKVStore store, string key, State state, ulong revision, CancellationToken cancellationToken)
    {
        try
        {
            return await store.UpdateAsync(key, state.ToString(), revision, Text, cancellationToken);
        }
        catch (NatsKVWrongLastRevisionException)
        {
            return null; // another consumer wrote it first: decide again
        }
    }

    /// <summary>The entry: the last action sent (milliseconds, name, envelope id) and a claim while a call is under way.</summary>
    private readonly record struct State(long At, string Action, string EnvelopeId, string Token, long ClaimedAt)
    {
        public static readonly State None = new(long.MinValue, string.Empty, string.Empty, string.Empty, 0);

        public bool Claimed(DateTimeOffset now) => Token.Length > 0 && now.ToUnixTimeMilliseconds() - ClaimedAt < (long)ClaimFor.TotalMilliseconds;

        public static State Parse(string? text)
        {
            string[] parts = (text ?? string.Empty).Split('|');
            return parts.Length == 5
                ? new State(long.Parse(parts[0], CultureInfo.InvariantCulture), parts[1], parts[2], parts[3], long.Parse(parts[4], CultureInfo.InvariantCulture))
                : None;
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{At}|{Action}|{EnvelopeId}|{Token}|{ClaimedAt}");
    }
}
