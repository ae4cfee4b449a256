using System.Globalization;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Immune.Nats;

/// <summary>
/// The <see cref="IImmunePagerLedger"/> of a NATS consumer group: one entry per dedup key in a JetStream key-value bucket
/// (<c>&lt;StreamName&gt;_PAGER</c>, kept <see cref="NatsJetStreamOptions.DedupFor"/>), holding the last action sent (its
/// time, name and envelope id) and, while a consumer is calling the pager for that key, its claim. Every change is a
/// compare-and-set on the entry's revision, so two consumers never both decide; a claim older than 30 seconds (its
/// consumer died mid-call) may be taken over.
/// </summary>
public sealed class NatsPagerLedger : IImmunePagerLedger
{
    private static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ClaimPoll = TimeSpan.FromMilliseconds(20);
    private static readonly NatsUtf8PrimitivesSerializer<string> Text = NatsUtf8PrimitivesSerializer<string>.Default;
    private readonly INatsConnection _connection;
    private readonly NatsJetStreamOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _open = new(1, 1);
    private INatsKVStore? _store;

    /// <summary>Creates the ledger of the stream's group.</summary>
    /// <param name="connection">The connection. Must not be null.</param>
    /// <param name="options">The options; null for the defaults. The ledger keeps a copy.</param>
    /// <param name="timeProvider">The clock of the claims; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public NatsPagerLedger(INatsConnection connection, NatsJetStreamOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = (options?.Clone() ?? new NatsJetStreamOptions()).Validated();
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the key-value bucket's name: the stream's, with <c>_PAGER</c>.</summary>
    public string Bucket => $"{_options.StreamName}_PAGER";

    /// <inheritdoc />
    public async Task<bool> SendOnceAsync(string dedupKey, string action, DateTimeOffset at, string envelopeId, Func<Task> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dedupKey);
        ArgumentNullException.ThrowIfNull(send);
        INatsKVStore store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        string key = Convert.ToBase64String(Encoding.UTF8.GetBytes(dedupKey)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        string token = Guid.NewGuid().ToString("N");
        long atMs = at.ToUnixTimeMilliseconds();
        State last;
        ulong revision;
        while (true)
        {
            (last, revision) = await ReadAsync(store, key, cancellationToken).ConfigureAwait(false);
            if (last.Claimed(_timeProvider.GetUtcNow()))
            {
                await Task.Delay(ClaimPoll, _timeProvider, cancellationToken).ConfigureAwait(false); // another consumer is calling the pager for this key
                continue;
            }

            if (last.At >= atMs)
            {
                return false; // a redelivery, or superseded by a later action already sent
            }

            var claimed = new State(atMs, action, envelopeId, token, _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            if (await TryWriteAsync(store, key, claimed, revision, cancellationToken).ConfigureAwait(false) is { } claimedRevision)
            {
                revision = claimedRevision;
                break;
            }
        }

        try
        {
            await send().ConfigureAwait(false);
        }
        catch
        {
            await TryWriteAsync(store, key, last with { Token = string.Empty, ClaimedAt = 0 }, revision, CancellationToken.None).ConfigureAwait(false); // not sent after all
            throw;
        }

        await TryWriteAsync(store, key, new State(atMs, action, envelopeId, string.Empty, 0), revision, CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    private async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken)
    {
        if (_store is { } store)
        {
            return store;
        }

        await _open.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var kv = new NatsKVContext(new NatsJSContext(_connection));
            return _store ??= await kv.CreateOrUpdateStoreAsync(
                _options.BucketConfig(Bucket, _options.DedupFor),
                cancellationToken).ConfigureAwait(false);
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
            NatsKVEntry<string> entry = await store.GetEntryAsync(key, serializer: Text, cancellationToken: cancellationToken).ConfigureAwait(false);
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
            return await store.UpdateAsync(key, state.ToString(), revision, Text, cancellationToken).ConfigureAwait(false);
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
