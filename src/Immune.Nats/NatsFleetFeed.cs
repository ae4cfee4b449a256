using NATS.Client.Core;
using NATS.Client.JetStream;
using Microsoft.Extensions.Logging;

namespace Immune.Nats;

/// <summary>
/// Reads the whole JetStream stream into an <see cref="ImmuneFleetView"/> through an ordered consumer (no group: every
/// process that answers for the fleet needs every envelope), from the stream's first message, so a consumer that
/// restarts rebuilds its view from what the stream keeps. The view applies an envelope once, so reading a message again
/// changes nothing; a message that is no envelope is skipped (the group dead-letters it).
/// </summary>
/// <remarks>
/// It tells how far behind it is (<see cref="ImmuneFeedStatus.Lag"/>) and counts messages it finds gone before it read
/// them (<see cref="ImmuneFeedStatus.Lost"/>): removed by <see cref="NatsJetStreamOptions.MaxAge"/>, or by an operator.
/// </remarks>
public sealed class NatsFleetFeed : ImmuneFeed
{
    private readonly NatsJSContext _js;
    private readonly ImmuneFleetView _view;
    private readonly NatsJetStreamOptions _options;
    private INatsJSConsumer? _consumer;
    private ulong _last; // the stream sequence of the last message read; 0 before the first

    /// <summary>Creates the feed.</summary>
    /// <param name="connection">The connection. Must not be null.</param>
    /// <param name="view">The view it keeps current. Must not be null.</param>
    /// <param name="options">The options; null for the defaults. The feed keeps a copy.</param>
    /// <param name="logger">The logger; null for none.</param>
    /// <param name="timeProvider">The clock; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public NatsFleetFeed(INatsConnection connection, ImmuneFleetView view, NatsJetStreamOptions? options = null, ILogger<NatsFleetFeed>? logger = null, TimeProvider? timeProvider = null)
        : this(connection, view, (options?.Clone() ?? new NatsJetStreamOptions()).Validated(), logger, timeProvider, validated: true)
    {
    }

    private NatsFleetFeed(INatsConnection connection, ImmuneFleetView view, NatsJetStreamOptions options, ILogger? logger, TimeProvider? timeProvider, bool validated)
        : base($"nats {options.StreamName} fleet", options.PollInterval, logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(view);
        (_view, _options) = (view, options);
        _js = new NatsJSContext(connection);
    }

    /// <inheritdoc />
    protected override async ValueTask<int> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ReadMessagesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _consumer = null; // an ordered consumer that failed is made again, from where the view is
            throw;
        }
    }

    private async ValueTask<int> ReadMessagesAsync(CancellationToken cancellationToken)
    {
        INatsJSStream stream = await _js.GetStreamAsync(_options.StreamName, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong first = stream.Info.State.FirstSeq, lastInStream = stream.Info.State.LastSeq;
        if (_last > 0 && first > _last + 1 && stream.Info.State.Messages > 0)
        {
            ReportLost((long)(first - _last - 1), _options.StreamName); // gone between what the feed read and what is there
            _last = first - 1;
            _consumer = null; // start again from the first message there
        }

        _consumer ??= await _js.CreateOrderedConsumerAsync(_options.StreamName, new NatsJSOrderedConsumerOpts
        {
            FilterSubjects = [$"{_options.SubjectPrefix}.>"], // one subject filter: Debian's nats-server 2.9 reads a single one only
            DeliverPolicy = _last == 0 ? NATS.Client.JetStream.Models.ConsumerConfigDeliverPolicy.All : NATS.Client.JetStream.Models.ConsumerConfigDeliverPolicy.ByStartSequence,
            OptStartSeq = _last == 0 ? 0 : _last + 1,
        }, cancellationToken).ConfigureAwait(false);

        int read = 0;
        await foreach (NatsJSMsg<byte[]> message in _consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = _options.BatchSize }, NatsRawSerializer<byte[]>.Default, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                _view.Apply(ImmuneJson.DeserializeEnvelope(message.Data ?? []));
            }
            catch (Exception exception) when (exception is System.Text.Json.JsonException or ArgumentException)
            {
                // Not an envelope: the group's consumers dead-letter it; the view skips it.
            }

            _last = message.Metadata?.Sequence.Stream ?? _last + 1;
            read++;
        }

        ReportBacklog((long)(lastInStream > _last ? lastInStream - _last : 0), null);
        return read;
    }
}
