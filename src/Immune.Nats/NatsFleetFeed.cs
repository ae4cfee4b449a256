using Immune.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Microsoft.Extensions.Logging;

namespace Immune.Nats;

/// <summary>
/// Reads the whole JetStream stream (every shard's, <see cref="NatsJetStreamOptions.Shards"/>, side by side) into an
/// <see cref="ImmuneFleetView"/> through ordered consumers (no group: every process that answers for the fleet needs
/// every envelope), from each stream's first message, so a consumer that restarts rebuilds its view from what the
/// streams keep. The view applies an envelope once, so reading a message again changes nothing; a message that is no
/// envelope is skipped (the group dead-letters it).
/// </summary>
/// <remarks>
/// It tells how far behind it is (<see cref="ImmuneFeedStatus.Lag"/>) and counts messages it finds gone before it read
/// them (<see cref="ImmuneFeedStatus.Lost"/>): removed by <see cref="NatsJetStreamOptions.MaxAge"/>, or by an operator.
/// Every <see cref="NatsJetStreamOptions.TrimInterval"/> it writes what its view's open incidents need of each stream
/// (the bucket <c>&lt;StreamName&gt;_FLOORS</c>), which the producers' trim keeps however old, so the next feed to
/// start rebuilds every open incident.
/// </remarks>
public sealed class NatsFleetFeed : ImmuneFeed
{
    private readonly NatsJSContext _js;
    private readonly ImmuneFleetView _view;
    private readonly NatsJetStreamOptions _options;
    private readonly Shard[] _shards;
    private readonly NatsRetentionFloors _floors;
    private readonly string _reader = Guid.NewGuid().ToString("N"); // this feed's name among the floors' writers
    private long _floorsWrittenAt; // a timestamp; 0 before the first

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
        _floors = new NatsRetentionFloors(_js, options);
        _shards = [.. Enumerable.Range(0, options.Shards).Select(shard => new Shard(options.StreamNameOf(shard), options.FilterOf(shard)))];
    }

    /// <summary>How long one shard's read may take before it counts as failed and its consumer is made again: a read that finds nothing answers at once while the consumer's server lives.</summary>
    internal static readonly TimeSpan ShardReadTimeout = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    protected override async ValueTask<int> ReadAsync(CancellationToken cancellationToken)
    {
        // The shards are read side by side: one whose stream is between leaders, or whose consumer died with its
        // server, holds up only itself, for at most ShardReadTimeout.
        var reads = new Task<(int Read, long Behind)>[_shards.Length];
        for (int shard = 0; shard < _shards.Length; shard++)
        {
            reads[shard] = ReadShardBoundedAsync(_shards[shard], cancellationToken);
        }

        try
        {
            await Task.WhenAll(reads).ConfigureAwait(false);
        }
        catch
        {
            // each shard's outcome is read below
        }

        int read = 0;
        long behind = 0;
        Exception? failure = null;
        foreach (Task<(int Read, long Behind)> shardRead in reads)
        {
            if (shardRead.IsCompletedSuccessfully)
            {
                (read, behind) = (read + shardRead.Result.Read, behind + shardRead.Result.Behind);
            }
            else
            {
                failure ??= shardRead.Exception?.InnerException ?? new OperationCanceledException(cancellationToken);
            }
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        ReportBacklog(behind, null);
        if (_floorsWrittenAt == 0 || TimeProvider.GetElapsedTime(_floorsWrittenAt) >= _options.TrimInterval)
        {
            await WriteFloorsAsync(cancellationToken).ConfigureAwait(false);
        }

        return read;
    }

    private async Task<(int Read, long Behind)> ReadShardBoundedAsync(Shard shard, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(ShardReadTimeout, TimeProvider);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await ReadShardAsync(shard, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            shard.Consumer = null; // an ordered consumer that failed or stalled is made again, from where the view is
            if (exception is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Reading the stream {shard.StreamName} took longer than {ShardReadTimeout.TotalSeconds:0} s; its consumer is made again.", exception);
            }

            throw;
        }
    }

    private async ValueTask<(int Read, long Behind)> ReadShardAsync(Shard shard, CancellationToken cancellationToken)
    {
        INatsJSStream stream = await _js.GetStreamAsync(shard.StreamName, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong first = stream.Info.State.FirstSeq, lastInStream = stream.Info.State.LastSeq;
        if (shard.Last > 0 && first > shard.Last + 1 && stream.Info.State.Messages > 0)
        {
            ReportLost((long)(first - shard.Last - 1), shard.StreamName); // gone between what the feed read and what is there
            shard.Last = first - 1;
            shard.Consumer = null; // start again from the first message there
        }

        shard.Consumer ??= await _js.CreateOrderedConsumerAsync(shard.StreamName, new NatsJSOrderedConsumerOpts
        {
            FilterSubjects = [shard.Filter], // one subject filter: Debian's nats-server 2.9 reads a single one only
            DeliverPolicy = shard.Last == 0 ? NATS.Client.JetStream.Models.ConsumerConfigDeliverPolicy.All : NATS.Client.JetStream.Models.ConsumerConfigDeliverPolicy.ByStartSequence,
            OptStartSeq = shard.Last == 0 ? 0 : shard.Last + 1,
        }, cancellationToken).ConfigureAwait(false);

        int read = 0;
        await foreach (NatsJSMsg<byte[]> message in shard.Consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = _options.BatchSize }, NatsRawSerializer<byte[]>.Default, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(message.Data ?? []);
                _view.Apply(envelope);
                shard.FirstRead.Read(envelope, message.Metadata?.Sequence.Stream ?? shard.Last + 1);
            }
            catch (Exception exception) when (exception is System.Text.Json.JsonException or ArgumentException)
            {
                // Not an envelope: the group's consumers dead-letter it; the view skips it.
            }

            shard.Last = message.Metadata?.Sequence.Stream ?? shard.Last + 1;
            read++;
        }

        return (read, (long)(lastInStream > shard.Last ? lastInStream - shard.Last : 0));
    }

    /// <summary>Writes the floors now, as the feed does every <see cref="NatsJetStreamOptions.TrimInterval"/> (for tests).</summary>
    internal Task WriteFloorsNowAsync() => WriteFloorsAsync(CancellationToken.None);

    /// <summary>
    /// Writes, per shard, the first sequence an open incident of the view needs (the first envelope of it the feed read
    /// there), so the producers' trim keeps it however old; events whose incident is closed are let go of. An event
    /// escalated after its publication was let go of is kept from its escalation on: its publication, which rebuilding
    /// it needs, stays for <see cref="NatsJetStreamOptions.MinRetention"/> only.
    /// </summary>
    private async Task WriteFloorsAsync(CancellationToken cancellationToken)
    {
        _floorsWrittenAt = Math.Max(1, TimeProvider.GetTimestamp());
        for (int shard = 0; shard < _shards.Length; shard++)
        {
            ulong floor = _shards[shard].FirstRead.Lowest(_view) ?? ulong.MaxValue; // none open: the feed holds nothing back (what it has not read yet is the group's to keep)
            await _floors.WriteAsync(shard, _reader, floor, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Where the feed is in one shard's stream.</summary>
    private sealed class Shard(string streamName, string filter)
    {
        public string StreamName { get; } = streamName;

        public string Filter { get; } = filter;

        public INatsJSConsumer? Consumer { get; set; }

        /// <summary>The stream sequence of the last message read; 0 before the first.</summary>
        public ulong Last { get; set; }

        /// <summary>The sequence of the first envelope read of each event not yet let go of (see <see cref="WriteFloorsAsync"/>).</summary>
        public OpenIncidentFloor<ulong> FirstRead { get; } = new();
    }
}
