using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Samples.Nats;

/// <summary>
/// An <see cref="IBatchEventStream"/> over NATS JetStream: each envelope is one message on
/// <c>&lt;prefix&gt;.&lt;type&gt;</c> whose body is the <see cref="ImmuneJson"/> document and whose <c>Nats-Msg-Id</c> is
/// the envelope's id, so the server drops a second copy within its duplicate window: a batch the service retries, or
/// one whose acknowledgement was lost, reaches consumers once. A batch is written with all its publish requests in
/// flight together and awaited as one; a message the stream did not store fails the call, which the Immune service
/// counts and retries. While the connection is down a call fails at once; the connection reconnects by itself.
/// </summary>
/// <remarks>
/// Order: envelopes reach the stream in record order on each subject while the connection holds. A batch that was in
/// flight when it broke may be stored partly before and partly after the service's retry of it (requests the client
/// still held are sent once it reconnects); the message ids keep every envelope once, but a consumer may then see a
/// few of that batch out of record order. Order consumers by the envelope's own times, as the fleet view does.
/// </remarks>
public sealed class NatsJetStreamEventStream(INatsConnection connection, NatsJetStreamOptions? options = null) : IBatchEventStream
{
    private readonly NatsJetStreamOptions _options = options ?? new NatsJetStreamOptions();
    private readonly NatsJSContext _js = new((NatsConnection)connection);

    /// <summary>Gets the options it writes with.</summary>
    public NatsJetStreamOptions Options => _options;

    /// <summary>
    /// Creates the stream, or brings an existing one to these settings: file storage, limits retention (<see cref="NatsJetStreamOptions.MaxAge"/>,
    /// <see cref="NatsJetStreamOptions.MaxMessages"/>), the subjects under the prefix and the duplicate window.
    /// </summary>
    public async Task EnsureStreamAsync(CancellationToken cancellationToken = default)
        => await _js.CreateOrUpdateStreamAsync(StreamConfig(_options), cancellationToken);

    /// <summary>The stream's settings, for a host that creates it by other means (the <c>nats</c> CLI, a deployment).</summary>
    public static StreamConfig StreamConfig(NatsJetStreamOptions options) => new(options.StreamName, [$"{options.SubjectPrefix}.>"])
    {
        Storage = StreamConfigStorage.File,
        Retention = StreamConfigRetention.Limits,
        Discard = StreamConfigDiscard.Old,
        MaxAge = options.MaxAge,
        MaxMsgs = options.MaxMessages,
        DuplicateWindow = options.DuplicateWindow,
    };

    /// <inheritdoc />
    public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ThrowIfDisconnected();
        EnsureStored(await Publish(envelope, cancellationToken));
    }

    /// <inheritdoc />
    public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisconnected();
        var acks = new Task<PubAckResponse>[envelopes.Length];
        for (int i = 0; i < acks.Length; i++)
        {
            EventEnvelope envelope = envelopes.Span[i] ?? throw new ArgumentException("The batch must not hold a null envelope.", nameof(envelopes));
            acks[i] = Publish(envelope, cancellationToken).AsTask(); // every request on the wire before the first answer is awaited
        }

        foreach (PubAckResponse ack in await Task.WhenAll(acks))
        {
            EnsureStored(ack);
        }
    }

    /// <summary>
    /// Fails fast while the connection is down, rather than leave requests in the client's buffer: sent after the
    /// reconnection, they could land after the service's own retry of the same batch.
    /// </summary>
    private void ThrowIfDisconnected()
    {
        if (connection.ConnectionState != NatsConnectionState.Open)
        {
            throw new NatsException($"Not connected to NATS ({connection.ConnectionState}); the batch was not sent.");
        }
    }

    /// <summary>Throws unless the stream stored the message now or had it already (a duplicate of an earlier attempt is a success).</summary>
    private static void EnsureStored(PubAckResponse ack)
    {
        if (ack is not { Duplicate: true, Error: null })
        {
            ack.EnsureSuccess();
        }
    }

    private ValueTask<PubAckResponse> Publish(EventEnvelope envelope, CancellationToken cancellationToken)
        => _js.PublishAsync(
            _options.SubjectOf(envelope.Type),
            ImmuneJson.SerializeToUtf8Bytes(envelope),
            NatsRawSerializer<byte[]>.Default,
            new NatsJSPubOpts { MsgId = envelope.Id },
            cancellationToken: cancellationToken);
}
