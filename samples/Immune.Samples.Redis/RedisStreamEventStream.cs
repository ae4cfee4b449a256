using StackExchange.Redis;

namespace Immune.Samples.Redis;

/// <summary>
/// An <see cref="IEventStream"/> over Redis Streams: each envelope becomes one entry
/// (<c>XADD immune:events MAXLEN ~ 10000 * type … id … envelope …</c>) whose <c>envelope</c> field is the
/// <see cref="ImmuneJson"/> document. Failures surface as exceptions, which the Immune service counts and retries;
/// the multiplexer reconnects by itself when Redis comes back.
/// </summary>
public sealed class RedisStreamEventStream(IConnectionMultiplexer redis, RedisStreamOptions? options = null) : IEventStream
{
    private readonly RedisStreamOptions _options = options ?? new RedisStreamOptions();

    /// <inheritdoc />
    public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        cancellationToken.ThrowIfCancellationRequested();
        NameValueEntry[] fields =
        [
            new("type", envelope.Type),
            new("id", envelope.Id),
            new("envelope", ImmuneJson.SerializeToUtf8Bytes(envelope)),
        ];

        // StackExchange.Redis takes no token: stop waiting when the attempt is cancelled (the command may still land).
        await redis.GetDatabase()
            .StreamAddAsync(_options.StreamKey, fields, maxLength: _options.MaxLength, useApproximateMaxLength: true)
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
    }

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
