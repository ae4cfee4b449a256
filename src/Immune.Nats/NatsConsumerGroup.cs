using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Nats;

/// <summary>
/// One consumer of the stream's durable pull consumer (<see cref="NatsJetStreamOptions.Group"/>), which every consumer
/// process shares: each message is handled by one of them, through <see cref="ImmunePaging"/> when paging is on, and
/// acknowledged after; a message a dead consumer held unacknowledged goes to another after
/// <see cref="NatsJetStreamOptions.ReclaimAfter"/>. A message that is no envelope is copied to
/// <see cref="NatsJetStreamOptions.DeadLetterSubject"/> (a stream of its own) with the reason in a header, then
/// acknowledged, so it never blocks the rest.
/// </summary>
/// <remarks>
/// <para>
/// With several <see cref="NatsJetStreamOptions.Shards"/> the members divide the shards by leases in a key-value bucket
/// (<c>&lt;StreamName&gt;_LEASES</c>): each reads only the shards it holds, so one member pages a shard's incidents in
/// their order; each takes up to ⌈shards ÷ live members⌉ and gives back what is beyond, a dead member's shards go to
/// the survivors once its leases run out (<see cref="NatsJetStreamOptions.LeaseTtl"/>), and a member that stops gives
/// its shards back at once. A lease is not a fence: the pager ledger's compare-and-set keeps a page single.
/// </para>
/// <para>
/// When a message cannot be handled (the pager is down), it and the rest of the read are handed back at once (not
/// acknowledged) and the read fails: the feed backs off, and the message comes again until the pager takes it. It tells
/// how far behind the group is (<see cref="ImmuneFeedStatus.Lag"/>, <see cref="ImmuneFeedStatus.Pending"/>) and counts
/// messages gone before the group read them (<see cref="ImmuneFeedStatus.Lost"/>).
/// </para>
/// </remarks>
public sealed class NatsConsumerGroup : ImmuneFeed
{
    private readonly INatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly NatsJetStreamOptions _options;
    private readonly ImmunePaging? _paging;
    private readonly INatsJSConsumer?[] _consumers; // by shard; null until made, or after its stream or consumer failed
    private readonly NatsShardLeases? _leases; // with several shards: which this member reads

    /// <summary>Creates a consumer of the group.</summary>
    /// <param name="connection">The connection. Must not be null.</param>
    /// <param name="paging">Pages on-call for each envelope; null to consume without paging.</param>
    /// <param name="options">The options; null for the defaults. The consumer keeps a copy.</param>
    /// <param name="logger">The logger; null for none.</param>
    /// <param name="timeProvider">The clock; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public NatsConsumerGroup(INatsConnection connection, ImmunePaging? paging, NatsJetStreamOptions? options = null, ILogger<NatsConsumerGroup>? logger = null, TimeProvider? timeProvider = null)
        : this(connection, paging, (options?.Clone() ?? new NatsJetStreamOptions()).Validated(), logger, timeProvider, validated: true)
    {
    }

    private NatsConsumerGroup(INatsConnection connection, ImmunePaging? paging, NatsJetStreamOptions options, ILogger? logger, TimeProvider? timeProvider, bool validated)
        : base($"nats {options.StreamName} group {options.Group}", options.PollInterval, logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);
        (_connection, _paging, _options) = (connection, paging, options);
        _js = new NatsJSContext(connection);
        _consumers = new INatsJSConsumer?[options.Shards];
        _leases = options.Shards > 1 ? new NatsShardLeases(connection, options, TimeProvider) : null;
    }

    /// <summary>Gets the shards' leases, with several shards (for tests).</summary>
    internal NatsShardLeases? Leases => _leases;

    /// <summary>Gets the durable consumer's settings (with one shard).</summary>
    /// <param name="options">The options. Must not be null.</param>
    /// <returns>The consumer's configuration.</returns>
    public static ConsumerConfig ConsumerConfig(NatsJetStreamOptions options) => ConsumerConfig(options, 0);

    /// <summary>Gets the settings of the durable consumer on a shard's stream (<see cref="NatsJetStreamOptions.Shards"/>).</summary>
    /// <param name="options">The options. Must not be null.</param>
    /// <param name="shard">The shard, from 0 to <see cref="NatsJetStreamOptions.Shards"/> − 1.</param>
    /// <returns>The consumer's configuration.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard.</exception>
    public static ConsumerConfig ConsumerConfig(NatsJetStreamOptions options, int shard)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = options.StreamNameOf(shard); // checks the shard
        return new ConsumerConfig(options.Group)
        {
            DurableName = options.Group,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = options.ReclaimAfter,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            FilterSubject = options.FilterOf(shard), // one filter: Debian's nats-server 2.9 ignores several
            MaxAckPending = 10_000,
        };
    }

    /// <summary>
    /// Creates (or brings to these settings) every shard's stream when <see cref="NatsJetStreamOptions.CreateStream"/> is
    /// on, the dead-letter stream and the durable consumer on each shard's stream.
    /// </summary>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>A task that completes when they are there.</returns>
    public async Task EnsureConsumerAsync(CancellationToken cancellationToken = default)
    {
        for (int shard = 0; shard < _consumers.Length; shard++)
        {
            await EnsureShardAsync(shard, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<INatsJSConsumer> EnsureShardAsync(int shard, CancellationToken cancellationToken)
    {
        if (_options.CreateStream)
        {
            await _js.CreateOrUpdateStreamAsync(NatsJetStreamEventStream.StreamConfig(_options, shard), cancellationToken).ConfigureAwait(false);
        }

        await _js.CreateOrUpdateStreamAsync(new StreamConfig($"{_options.StreamName}_DEAD", [_options.DeadLetterSubject]) { Storage = StreamConfigStorage.File, NumReplicas = _options.Replicas }, cancellationToken).ConfigureAwait(false);
        return _consumers[shard] = await _js.CreateOrUpdateConsumerAsync(_options.StreamNameOf(shard), ConsumerConfig(_options, shard), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask<int> ReadAsync(CancellationToken cancellationToken)
    {
        int read = 0;
        (long pending, long ackPending) = (0, 0);
        Exception? failure = null;
        if (_leases is not null)
        {
            try
            {
                await _leases.IfDueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failure = exception; // the shards held at the last turn are still read
            }
        }

        for (int shard = 0; shard < _consumers.Length; shard++)
        {
            if (_leases?.Holds(shard) == false)
            {
                continue;
            }

            try
            {
                INatsJSConsumer consumer = _consumers[shard] ?? await EnsureShardAsync(shard, cancellationToken).ConfigureAwait(false);
                read += await ReadMessagesAsync(consumer, _options.StreamNameOf(shard), cancellationToken).ConfigureAwait(false);
                (pending, ackPending) = (pending + (long)consumer.Info.NumPending, ackPending + consumer.Info.NumAckPending);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (exception is NatsJSApiException)
                {
                    _consumers[shard] = null; // the consumer or the stream is gone: made again at the next read
                }

                failure ??= exception; // the other shards are still read: one stream without a leader stops only itself
            }
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        ReportBacklog(pending, ackPending);
        return read;
    }

    /// <inheritdoc />
    protected override Task StoppedAsync() => _leases?.ReleaseAllAsync(CancellationToken.None) ?? Task.CompletedTask;

    private async Task<int> ReadMessagesAsync(INatsJSConsumer consumer, string streamName, CancellationToken cancellationToken)
    {
        await CountLostAsync(consumer, streamName, cancellationToken).ConfigureAwait(false);
        var messages = new List<NatsJSMsg<byte[]>>(_options.BatchSize);
        await foreach (NatsJSMsg<byte[]> message in consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = _options.BatchSize }, NatsRawSerializer<byte[]>.Default, cancellationToken).ConfigureAwait(false))
        {
            messages.Add(message);
        }

        ReportRead(); // the broker answered: fresh, whatever the pager does with what it gave
        for (int i = 0; i < messages.Count; i++)
        {
            try
            {
                await HandleAsync(messages[i], streamName, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Hand it and the rest back at once, in order: they come again at the next read.
                for (int j = i; j < messages.Count; j++)
                {
                    await messages[j].NakAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }

                throw;
            }

            await messages[i].AckAsync(new AckOpts { DoubleAck = true }, cancellationToken).ConfigureAwait(false); // confirmed: the floor the trim reads has moved
        }

        await consumer.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return messages.Count;
    }

    /// <summary>Counts the messages gone from the stream (by its age limit, or an operator) before the group read them.</summary>
    private async Task CountLostAsync(INatsJSConsumer consumer, string streamName, CancellationToken cancellationToken)
    {
        await consumer.RefreshAsync(cancellationToken).ConfigureAwait(false);
        ulong delivered = consumer.Info.Delivered.StreamSeq;
        INatsJSStream stream = await _js.GetStreamAsync(streamName, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong first = stream.Info.State.FirstSeq;
        if (stream.Info.State.Messages > 0 && first > delivered + 1)
        {
            ReportLost((long)(first - delivered - 1), streamName);
        }
    }

    private async Task HandleAsync(NatsJSMsg<byte[]> message, string streamName, CancellationToken cancellationToken)
    {
        EventEnvelope envelope;
        try
        {
            envelope = ImmuneJson.DeserializeEnvelope(message.Data ?? []);
        }
        catch (System.Text.Json.JsonException exception)
        {
            var headers = new NatsHeaders { ["Immune-Error"] = exception.Message, ["Immune-Subject"] = message.Subject };
            (await _js.PublishAsync(_options.DeadLetterSubject, message.Data ?? [], NatsRawSerializer<byte[]>.Default, headers: headers, cancellationToken: cancellationToken).ConfigureAwait(false)).EnsureSuccess();
            ReportDeadLettered(message.Metadata?.Sequence.Stream.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?", streamName, _options.DeadLetterSubject, exception.Message);
            return;
        }

        if (_paging is not null)
        {
            await _paging.HandleAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
    }
}
