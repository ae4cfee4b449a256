using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// An <see cref="IBatchEventStream"/> over a Redis stream: each envelope is one entry (<c>XADD</c> with the fields
/// <c>type</c>, <c>id</c> and <c>envelope</c>, the <see cref="ImmuneJson"/> document). A batch is one round trip: its
/// commands are written together (one connection keeps their order) and awaited together. A failure throws, and the
/// service retries the batch whole (so a partly written batch's entries may appear twice, with the same <c>id</c>:
/// consumers deduplicate by it); the multiplexer reconnects by itself when Redis comes back. An envelope larger than
/// <see cref="RedisStreamsOptions.MaxEnvelopeBytes"/> is rejected (<see cref="EnvelopeRejectedException"/>) before
/// anything of its call is sent, so the service fails it alone and sends the rest again at once.
/// </summary>
/// <remarks>
/// The stream is never trimmed on write. Every <see cref="RedisStreamsOptions.TrimInterval"/> the producer trims it in
/// the background, never below what a consumer group has not read and acknowledged nor below
/// <see cref="RedisStreamsOptions.MinRetention"/> (a stream without groups keeps
/// <see cref="RedisStreamsOptions.UngroupedMaxLength"/> entries): a consumer that is down while a storm arrives reads
/// every entry when it returns. When Redis itself refuses writes (its <c>maxmemory</c>), publishes fail, and the service
/// holds and forwards them as in any outage (<see cref="ImmuneDeliveryStats.FailingSince"/> says so).
/// </remarks>
public sealed class RedisStreamsEventStream : IBatchEventStream
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisStreamsOptions _options;
    private readonly StreamTrim _trim;

    /// <summary>Creates the transport.</summary>
    /// <param name="redis">The connection. Must not be null. Use <see cref="RedisStreamsOptions.ConnectionOptions"/> to connect, so a publish never waits for Redis to come back.</param>
    /// <param name="options">The options; null for the defaults. The transport keeps a copy.</param>
    /// <param name="timeProvider">The clock of the trims; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public RedisStreamsEventStream(IConnectionMultiplexer redis, RedisStreamsOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _options = (options?.Clone() ?? new RedisStreamsOptions()).Validated();
        _trim = new StreamTrim(redis, _options, timeProvider ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        cancellationToken.ThrowIfCancellationRequested();
        byte[] json = Serialize(envelope) ?? throw Rejected([envelope.Id]);
        _trim.IfDue();

        // StackExchange.Redis takes no token: stop waiting when the attempt is cancelled (the command may still land).
        return new ValueTask(Add(_redis.GetDatabase(), envelope, json).WaitAsync(cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ReadOnlySpan<EventEnvelope> span = envelopes.Span;
        var documents = new byte[span.Length][];
        List<string>? oversized = null;
        for (int i = 0; i < span.Length; i++)
        {
            EventEnvelope envelope = span[i] ?? throw new ArgumentException("The batch must not hold a null envelope.", nameof(envelopes));
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

        _trim.IfDue();
        IBatch batch = _redis.GetDatabase().CreateBatch();
        var added = new Task[span.Length];
        for (int i = 0; i < span.Length; i++)
        {
            added[i] = Add(batch, span[i], documents[i]);
        }

        batch.Execute(); // one write of every command: a single round trip, not one per envelope
        return new ValueTask(Task.WhenAll(added).WaitAsync(cancellationToken));
    }

    /// <summary>Trims the stream now, as the background trim does (for tests and operators).</summary>
    /// <returns>A task that completes when the trim is done.</returns>
    internal Task TrimAsync() => _trim.RunAsync();

    private byte[]? Serialize(EventEnvelope envelope)
    {
        byte[] json = ImmuneJson.SerializeToUtf8Bytes(envelope);
        return json.LongLength <= _options.MaxEnvelopeBytes ? json : null;
    }

    private EnvelopeRejectedException Rejected(IEnumerable<string> ids)
        => new($"The envelope is larger than the {_options.MaxEnvelopeBytes:N0} bytes Redis is set to take (RedisStreamsOptions.MaxEnvelopeBytes).", ids);

    private Task<RedisValue> Add(IDatabaseAsync db, EventEnvelope envelope, byte[] json) => db.StreamAddAsync(
        _options.StreamKey,
        [
            new NameValueEntry("type", envelope.Type),
            new NameValueEntry("id", envelope.Id),
            new NameValueEntry("envelope", json),
        ]);
}
