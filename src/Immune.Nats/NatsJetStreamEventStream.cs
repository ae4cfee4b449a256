using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Nats;

/// <summary>
/// An <see cref="IBatchEventStream"/> over NATS JetStream: each envelope is one message on <c>&lt;prefix&gt;.&lt;type&gt;</c>
/// (<c>&lt;prefix&gt;.&lt;shard&gt;.&lt;type&gt;</c> in its source's shard's stream with several
/// <see cref="NatsJetStreamOptions.Shards"/>) whose body is the <see cref="ImmuneJson"/> document and whose <c>Nats-Msg-Id</c> is the envelope's id, so the server
/// drops a second copy within its duplicate window: a batch the service retries, or one whose acknowledgement was lost,
/// is stored once. A batch is written with every publish in flight together and awaited as one; a message the stream
/// did not store fails the call, which the service retries. While the connection is down a call fails at once; the
/// connection reconnects by itself. An envelope larger than the server's <c>max_payload</c> is rejected
/// (<see cref="EnvelopeRejectedException"/>) before anything of its call is sent.
/// </summary>
/// <remarks>
/// <para>
/// The stream is created (or brought to these settings) before the first publish, unless
/// <see cref="NatsJetStreamOptions.CreateStream"/> is off: file storage, limits retention with <c>discard new</c>, so when
/// the stream is full the server refuses new messages — the producer holds and forwards them as in any outage — and
/// never discards one a consumer has not read; only <see cref="NatsJetStreamOptions.MaxAge"/> removes unread messages.
/// Every <see cref="NatsJetStreamOptions.TrimInterval"/> the producer purges, in the background, what every durable
/// consumer acknowledged (keeping <see cref="NatsJetStreamOptions.MinRetention"/>), so the stream gets room as the
/// groups read on.
/// </para>
/// <para>
/// Order: envelopes reach the stream in record order on each subject while the connection holds. A batch in flight when
/// it broke may be stored partly before and partly after the service's retry (requests the client held are sent once it
/// reconnects); the message ids keep every envelope once, but a consumer may then see a few of that batch out of record
/// order. Consumers order by the envelopes' own times, as the fleet view does.
/// </para>
/// </remarks>
public sealed class NatsJetStreamEventStream : IBatchEventStream
{
    private readonly INatsConnection _connection;
    private readonly NatsJetStreamOptions _options;
    private readonly NatsJSContext _js;
    private readonly SemaphoreSlim _ensure = new(1, 1);
    private readonly NatsStreamTrim _trim;
    private volatile bool _ensured;

    /// <summary>Creates the transport.</summary>
    /// <param name="connection">The connection. Must not be null.</param>
    /// <param name="options">The options; null for the defaults. The transport keeps a copy.</param>
    /// <param name="timeProvider">The clock of the trims; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public NatsJetStreamEventStream(INatsConnection connection, NatsJetStreamOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = (options?.Clone() ?? new NatsJetStreamOptions()).Validated();
        _js = new NatsJSContext(connection);
        _trim = new NatsStreamTrim(_js, _options, timeProvider ?? TimeProvider.System);
        _ensured = !_options.CreateStream;
    }

    /// <summary>Trims the stream now, as the background trim does (for tests and operators).</summary>
    /// <returns>A task that completes when the trim is done.</returns>
    internal Task TrimAsync() => _trim.RunAsync();

    /// <summary>Gets the settings the stream of <paramref name="options"/> is created with (with one shard), for a host that creates it by other means.</summary>
    /// <param name="options">The options. Must not be null.</param>
    /// <returns>The stream's configuration.</returns>
    public static StreamConfig StreamConfig(NatsJetStreamOptions options) => StreamConfig(options, 0);

    /// <summary>Gets the settings a shard's stream is created with (<see cref="NatsJetStreamOptions.Shards"/>), for a host that creates it by other means.</summary>
    /// <param name="options">The options. Must not be null.</param>
    /// <param name="shard">The shard, from 0 to <see cref="NatsJetStreamOptions.Shards"/> − 1.</param>
    /// <returns>The stream's configuration.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard.</exception>
    public static StreamConfig StreamConfig(NatsJetStreamOptions options, int shard)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new StreamConfig(options.StreamNameOf(shard), [options.FilterOf(shard)])
        {
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.New,
            MaxAge = options.MaxAge,
            MaxBytes = options.MaxBytes,
            MaxMsgs = options.MaxMessages,
            DuplicateWindow = options.DuplicateWindow,
            NumReplicas = options.Replicas,
        };
    }

    /// <summary>Creates the stream of every shard, or brings existing ones to these settings.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the streams are there.</returns>
    public async Task EnsureStreamAsync(CancellationToken cancellationToken = default)
    {
        await EnsureStreamsAsync(_js, _options, cancellationToken).ConfigureAwait(false);
        _ensured = true;
    }

    /// <summary>Creates every shard's stream, or brings it to the options' settings.</summary>
    internal static async Task EnsureStreamsAsync(NatsJSContext js, NatsJetStreamOptions options, CancellationToken cancellationToken)
    {
        for (int shard = 0; shard < options.Shards; shard++)
        {
            await js.CreateOrUpdateStreamAsync(StreamConfig(options, shard), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        byte[] json = Serialize(envelope) ?? throw Rejected([envelope.Id]);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        EnsureStored(await Publish(envelope, json, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var documents = new byte[envelopes.Length][];
        List<string>? oversized = null;
        for (int i = 0; i < documents.Length; i++)
        {
            EventEnvelope envelope = envelopes.Span[i] ?? throw new ArgumentException("The batch must not hold a null envelope.", nameof(envelopes));
            if (Serialize(envelope) is { } json)
            {
                documents[i] = json;
            }
            else
            {
                (oversized ??= []).Add(envelope.Id);
            }
        }

        if (oversized is not null)
        {
            throw Rejected(oversized); // nothing of the call was sent: the rest goes again without them, once
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var acks = new Task<PubAckResponse>[documents.Length];
        for (int i = 0; i < acks.Length; i++)
        {
            acks[i] = Publish(envelopes.Span[i], documents[i], cancellationToken).AsTask(); // every request on the wire before the first answer is awaited
        }

        foreach (PubAckResponse ack in await Task.WhenAll(acks).ConfigureAwait(false))
        {
            EnsureStored(ack);
        }
    }

    /// <summary>Fails fast while the connection is down (requests the client buffered could land after the service's own retry), and makes the stream once.</summary>
    private async ValueTask ReadyAsync(CancellationToken cancellationToken)
    {
        if (_connection.ConnectionState == NatsConnectionState.Closed)
        {
            await _connection.ConnectAsync().ConfigureAwait(false); // a connection that was never opened (one registered by Url) opens on first use
        }

        if (_connection.ConnectionState != NatsConnectionState.Open)
        {
            throw new NatsException($"Not connected to NATS ({_connection.ConnectionState}); the batch was not sent.");
        }

        if (_ensured)
        {
            _trim.IfDue();
            return;
        }

        await _ensure.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_ensured)
            {
                await EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _ensure.Release();
        }
    }

    /// <summary>The document, or null when it is larger than the server takes (its <c>max_payload</c>, 1 MB by default).</summary>
    private byte[]? Serialize(EventEnvelope envelope)
    {
        byte[] json = ImmuneJson.SerializeToUtf8Bytes(envelope);
        int max = _connection.ServerInfo?.MaxPayload ?? int.MaxValue;
        return json.Length <= max - Overhead ? json : null;
    }

    /// <summary>Room kept for the headers that travel with the body in the server's payload limit (<c>Nats-Msg-Id</c> and the framing).</summary>
    private const int Overhead = 512;

    private EnvelopeRejectedException Rejected(IEnumerable<string> ids)
        => new($"The envelope is larger than the {_connection.ServerInfo?.MaxPayload:N0} bytes the NATS server takes (its max_payload).", ids);

    /// <summary>Throws unless the stream stored the message now or had it already (a duplicate of an earlier attempt is a success).</summary>
    private static void EnsureStored(PubAckResponse ack)
    {
        if (ack is not { Duplicate: true, Error: null })
        {
            ack.EnsureSuccess();
        }
    }

    private ValueTask<PubAckResponse> Publish(EventEnvelope envelope, byte[] json, CancellationToken cancellationToken)
        => _js.PublishAsync(
            _options.SubjectOf(envelope),
            json,
            NatsRawSerializer<byte[]>.Default,
            new NatsJSPubOpts { MsgId = envelope.Id },
            cancellationToken: cancellationToken);
}
