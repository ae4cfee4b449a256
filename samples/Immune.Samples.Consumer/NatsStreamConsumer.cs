using Immune.Samples.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Samples.Consumer;

/// <summary>
/// The consumer group on NATS JetStream: a durable pull consumer (<see cref="ImmuneStreamConsumerOptions.Group"/>) with
/// explicit acknowledgement, shared by every consumer process. Each message is handled by the same
/// <see cref="EnvelopeHandler"/> as on Redis and acknowledged after; a message a dead consumer held unacknowledged is
/// redelivered to another after <see cref="ImmuneStreamConsumerOptions.ReclaimAfter"/> (the consumer's ack wait).
/// Malformed messages are copied to <see cref="ImmuneStreamConsumerOptions.DeadLetterKey"/> (a stream of its own) with
/// the reason in a header, then acknowledged.
/// </summary>
public sealed class NatsStreamConsumer(INatsConnection connection, NatsJetStreamOptions stream, ImmuneStreamConsumerOptions options, EnvelopeHandler handler, ILogger<NatsStreamConsumer> logger) : IConsumerLoop
{
    private readonly NatsJSContext _js = new((NatsConnection)connection);
    private INatsJSConsumer? _consumer;

    /// <summary>Gets how many <c>immune.event_published</c> envelopes this consumer handled, per severity.</summary>
    public IReadOnlyDictionary<ImmuneSeverity, long> PublishedBySeverity => handler.PublishedBySeverity;

    /// <summary>Creates (or brings to these settings) the stream, the dead-letter stream and the durable consumer.</summary>
    public async Task EnsureConsumerAsync(CancellationToken cancellationToken = default)
    {
        await new NatsJetStreamEventStream(connection, stream).EnsureStreamAsync(cancellationToken);
        await _js.CreateOrUpdateStreamAsync(new StreamConfig($"{stream.StreamName}_DEAD", [options.DeadLetterKey]) { Storage = StreamConfigStorage.File }, cancellationToken);
        _consumer = await _js.CreateOrUpdateConsumerAsync(stream.StreamName, ConsumerConfig(stream, options), cancellationToken);
    }

    /// <summary>The durable consumer's settings.</summary>
    public static ConsumerConfig ConsumerConfig(NatsJetStreamOptions stream, ImmuneStreamConsumerOptions options) => new(options.Group)
    {
        DurableName = options.Group,
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        AckWait = options.ReclaimAfter,
        DeliverPolicy = ConsumerConfigDeliverPolicy.All,
        FilterSubject = $"{stream.SubjectPrefix}.>",
        MaxAckPending = 10_000,
    };

    /// <summary>Handles what is waiting now, up to a batch; returns how many messages were handled.</summary>
    public async Task<int> ProcessBatchAsync(CancellationToken cancellationToken = default)
    {
        if (_consumer is null)
        {
            await EnsureConsumerAsync(cancellationToken);
        }

        int handled = 0;
        await foreach (NatsJSMsg<byte[]> message in _consumer!.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = options.BatchSize }, NatsRawSerializer<byte[]>.Default, cancellationToken))
        {
            if (await handler.HandleAsync(message.Data, cancellationToken) is { } malformed)
            {
                logger.LogError("Malformed message {Sequence} on {Subject} moved to {DeadLetter}: {Reason}", message.Metadata?.Sequence.Stream, message.Subject, options.DeadLetterKey, malformed);
                var headers = new NatsHeaders { ["Immune-Error"] = malformed, ["Immune-Subject"] = message.Subject };
                (await _js.PublishAsync(options.DeadLetterKey, message.Data ?? [], NatsRawSerializer<byte[]>.Default, headers: headers, cancellationToken: cancellationToken)).EnsureSuccess();
            }

            await message.AckAsync(cancellationToken: cancellationToken);
            handled++;
        }

        return handled;
    }

    /// <summary>Runs until cancelled; a failing batch is logged and retried after the poll interval.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => ConsumerLoop.RunAsync(
        ProcessBatchAsync,
        static exception => exception is NatsException or TimeoutException,
        exception => logger.LogWarning(exception, "Reading {Stream} failed; retrying", stream.StreamName),
        options.PollInterval,
        cancellationToken);
}

/// <summary>
/// Reads the whole JetStream stream into an <see cref="ImmuneFleetView"/> through an ordered consumer (no group: every
/// process that answers for the fleet needs every envelope). The view applies an envelope once, so reading a message
/// again changes nothing.
/// </summary>
public sealed class NatsFleetFeed(INatsConnection connection, NatsJetStreamOptions stream, ImmuneFleetView fleet, ImmuneStreamConsumerOptions options, ILogger<NatsFleetFeed> logger) : IConsumerLoop
{
    private readonly NatsJSContext _js = new((NatsConnection)connection);
    private INatsJSConsumer? _consumer;

    /// <summary>Applies the messages waiting now to the view, up to 256; returns how many were read.</summary>
    public async Task<int> ReadBatchAsync(CancellationToken cancellationToken = default)
    {
        _consumer ??= await _js.CreateOrderedConsumerAsync(stream.StreamName, new NatsJSOrderedConsumerOpts { FilterSubjects = [$"{stream.SubjectPrefix}.>"] }, cancellationToken);
        int read = 0;
        await foreach (NatsJSMsg<byte[]> message in _consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 256 }, NatsRawSerializer<byte[]>.Default, cancellationToken))
        {
            try
            {
                fleet.Apply(ImmuneJson.DeserializeEnvelope(message.Data));
            }
            catch (System.Text.Json.JsonException)
            {
                // Not an envelope: the group's consumers dead-letter it; the view skips it.
            }

            read++;
        }

        return read;
    }

    /// <summary>Runs until cancelled; a failing read is logged and retried after the poll interval.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => ConsumerLoop.RunAsync(
        ReadBatchAsync,
        static exception => exception is NatsException or TimeoutException,
        exception =>
        {
            logger.LogWarning(exception, "Reading {Stream} for the fleet view failed; retrying", stream.StreamName);
            _consumer = null; // an ordered consumer that failed is made anew, from where the view is
        },
        options.PollInterval,
        cancellationToken);
}
