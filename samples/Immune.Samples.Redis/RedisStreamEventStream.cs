using StackExchange.Redis;

namespace Immune.Samples.Redis;

/// <summary>
/// An <see cref="IBatchEventStream"/> over Redis Streams: each envelope becomes one entry
/// (<c>XADD immune:events MAXLEN ~ 10000 * type … id … envelope …</c>) whose <c>envelope</c> field is the
/// <see cref="ImmuneJson"/> document. A batch is one round trip: all its <c>XADD</c>s are written to the connection
/// together (in order: one connection keeps command order) and then awaited. Failures surface as exceptions, which the
/// Immune service counts and retries (a batch whole, so entries of a partly written batch may appear twice, with the
/// same <c>id</c>: consumers deduplicate by it); the multiplexer reconnects by itself when Redis comes back.
/// </summary>
public sealed class RedisStreamEventStream(IConnectionMultiplexer redis, RedisStreamOptions? options = null) : IBatchEventStream
{
    private readonly RedisStreamOptions _options = options ?? new RedisStreamOptions();

    /// <inheritdoc />
    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        cancellationToken.ThrowIfCancellationRequested();

        // StackExchange.Redis takes no token: stop waiting when the attempt is cancelled (the command may still land).
        return new ValueTask(Add(redis.GetDatabase(), envelope).WaitAsync(cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IBatch batch = redis.GetDatabase().CreateBatch();
        var added = new Task[envelopes.Length];
        ReadOnlySpan<EventEnvelope> span = envelopes.Span;
        for (int i = 0; i < span.Length; i++)
        {
            added[i] = Add(batch, span[i] ?? throw new ArgumentException("The batch must not hold a null envelope.", nameof(envelopes)));
        }

        batch.Execute(); // one write of every command: a single round trip, not one per envelope
        return new ValueTask(Task.WhenAll(added).WaitAsync(cancellationToken));
    }

    private Task<RedisValue> Add(IDatabaseAsync db, EventEnvelope envelope) => db.StreamAddAsync(
        _options.StreamKey,
        [
            new NameValueEntry("type", envelope.Type),
            new NameValueEntry("id", envelope.Id),
            new NameValueEntry("envelope", ImmuneJson.SerializeToUtf8Bytes(envelope)),
        ],
        maxLength: _options.MaxLength,
        useApproximateMaxLength: true);

    /// <summary>Connection settings for a stream that must never wait for a connection: fail fast while Redis is down, reconnect in the background.</summary>
    /// <param name="connectionString">A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c>.</param>
    /// <returns>The options to connect with.</returns>
    public static ConfigurationOptions ConnectionOptions(string connectionString)
    {
        ConfigurationOptions configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new LinearRetry(500);
        configuration.ConnectTimeout = 2_000;
        return configuration;
    }
}
