using Immune.Internal;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// Reads the whole Redis stream (plain <c>XREAD</c>, no group) into an <see cref="ImmuneFleetView"/>: paging is work,
/// split among a group's consumers, but the fleet's health is state, and every process that answers for it needs every
/// envelope. The view applies an envelope once, so reading one again (after a restart, or a duplicate a producer's
/// retry wrote) counts nothing twice. Entries that are no envelope are skipped (the group dead-letters them).
/// </summary>
/// <remarks>
/// It starts from the beginning of the stream, so a consumer that restarts rebuilds its view from what the stream keeps
/// (<see cref="RedisStreamsOptions.MinRetention"/>). It tells how far behind it is (<see cref="ImmuneFeedStatus.Lag"/>)
/// and counts entries it finds trimmed before it read them (<see cref="ImmuneFeedStatus.Lost"/>). Every
/// <see cref="RedisStreamsOptions.TrimInterval"/> it writes the first entry its view's open incidents need (the hash
/// <c>&lt;StreamKey&gt;:floors</c>), which the producers' trim keeps however old while a consumer group exists, so the
/// next feed to start rebuilds every open incident. After a Redis restart
/// without persistence the stream is written anew with ids from the current time, later than any read before, so the
/// feed goes on where it was.
/// </remarks>
public sealed class RedisFleetFeed : ImmuneFeed
{
    private readonly IConnectionMultiplexer _redis;
    private readonly ImmuneFleetView _view;
    private readonly RedisStreamsOptions _options;
    private readonly RedisRetentionFloors _floors;
    private readonly OpenIncidentFloor<StreamId> _firstRead = new();
    private readonly string _reader = Guid.NewGuid().ToString("N"); // this feed's name among the floors' writers
    private StreamId _position = StreamId.Zero; // the last entry read
    private long? _read; // entries of the stream counted as read (those gone before the feed began count too)
    private readonly ILogger? _logger;
    private long _floorsWrittenAt; // a timestamp; 0 before the first
    private bool _floorsRefused; // the last write was refused (NOPERM): told once per run of refusals

    /// <summary>Creates the feed.</summary>
    /// <param name="redis">The connection. Must not be null.</param>
    /// <param name="view">The view it keeps current. Must not be null.</param>
    /// <param name="options">The options; null for the defaults. The feed keeps a copy.</param>
    /// <param name="logger">The logger; null for none.</param>
    /// <param name="timeProvider">The clock; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public RedisFleetFeed(IConnectionMultiplexer redis, ImmuneFleetView view, RedisStreamsOptions? options = null, ILogger<RedisFleetFeed>? logger = null, TimeProvider? timeProvider = null)
        : this(redis, view, (options?.Clone() ?? new RedisStreamsOptions()).Validated(), logger, timeProvider, validated: true)
    {
    }

    private RedisFleetFeed(IConnectionMultiplexer redis, ImmuneFleetView view, RedisStreamsOptions options, ILogger? logger, TimeProvider? timeProvider, bool validated)
        : base($"redis {options.StreamKey} fleet", options.PollInterval, logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(view);
        (_redis, _view, _options, _logger) = (redis, view, options, logger);
        _floors = new RedisRetentionFloors(redis, options);
    }

    /// <inheritdoc />
    protected override async ValueTask<int> ReadAsync(CancellationToken cancellationToken)
    {
        IDatabase db = _redis.GetDatabase();
        if (await StreamState.ReadAsync(db, _options.StreamKey).ConfigureAwait(false) is not { } state)
        {
            ReportBacklog(0, null);
            return 0; // no stream yet
        }

        long read = _read ?? state.EntriesAdded - state.Length; // what was gone before the feed began is history, not loss
        if (state.EntriesAdded < read)
        {
            read = state.EntriesAdded - state.Length; // the stream was made anew (Redis restarted without persistence)
        }

        long lost = state.LostTo(_position, read);
        if (lost > 0)
        {
            ReportLost(lost, _options.StreamKey);
            read += lost;
        }

        _read = read;

        StreamEntry[] entries = await db.StreamReadAsync(_options.StreamKey, _position.ToString(), _options.BatchSize).ConfigureAwait(false);
        foreach (StreamEntry entry in entries)
        {
            RedisValue json = entry["envelope"];
            try
            {
                if (!json.IsNull)
                {
                    EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(((ReadOnlyMemory<byte>)json).Span);
                    _view.Apply(envelope);
                    _firstRead.Read(envelope, StreamId.Parse(entry.Id));
                }
            }
            catch (Exception exception) when (exception is JsonException or ArgumentException)
            {
                // Not an envelope: the group's consumers move it to the dead-letter stream; the view just skips it.
            }

            _position = StreamId.Parse(entry.Id);
        }

        _read = read + entries.Length;
        ReportBacklog(Math.Max(0, state.EntriesAdded - (read + entries.Length)), null);
        if (_floorsWrittenAt == 0 || TimeProvider.GetElapsedTime(_floorsWrittenAt) >= _options.TrimInterval)
        {
            await WriteFloorAsync().ConfigureAwait(false);
        }

        return entries.Length;
    }

    /// <summary>Writes the floor now, as the feed does every <see cref="RedisStreamsOptions.TrimInterval"/> (for tests).</summary>
    internal Task WriteFloorNowAsync() => WriteFloorAsync();

    /// <summary>
    /// Writes the first entry id an open incident of the view needs (the first envelope of it the feed read), so the
    /// producers' trim keeps it however old; events whose incident is closed are let go of, and a view with no open
    /// incident holds nothing back (what the feed has not read yet is the group's to keep).
    /// </summary>
    /// <remarks>
    /// A Redis user that may not run scripts (<c>NOPERM</c>) does not stop the feed: its reads count, the refusal is
    /// logged once (<c>FloorsRefused</c>) and the write is tried again every interval.
    /// </remarks>
    private async Task WriteFloorAsync()
    {
        _floorsWrittenAt = Math.Max(1, TimeProvider.GetTimestamp());
        try
        {
            await _floors.WriteAsync(_reader, _firstRead.Lowest(_view)).ConfigureAwait(false);
            _floorsRefused = false;
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOPERM", StringComparison.Ordinal))
        {
            if (!_floorsRefused && _logger is { } logger)
            {
                try
                {
                    RedisLog.FloorsRefused(logger, Name, _floors.Key.ToString(), exception.Message);
                }
                catch (Exception)
                {
                    // A logger that throws loses this report and nothing else.
                }
            }

            _floorsRefused = true;
        }
    }
}
