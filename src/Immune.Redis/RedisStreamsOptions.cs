using Immune.Internal;
using StackExchange.Redis;

namespace Immune.Redis;

/// <summary>
/// The Redis stream Immune writes to and reads from, and how: the producer's transport
/// (<see cref="RedisStreamsEventStream"/>), the trimming that keeps the stream bounded without dropping what a consumer
/// group has not read, and the consumer side (<see cref="RedisFleetFeed"/>, <see cref="RedisConsumerGroup"/>,
/// <see cref="RedisPagerLedger"/>). Validated when it is registered or a part is built; each part keeps a copy.
/// </summary>
public sealed class RedisStreamsOptions
{
    /// <summary>The default <see cref="StreamKey"/>: <c>immune:events</c>.</summary>
    public const string DefaultStreamKey = "immune:events";

    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string (<c>localhost:6379</c>, …); null to use the
    /// <see cref="IConnectionMultiplexer"/> registered in the container. A connection made from it fails fast while
    /// Redis is down and reconnects in the background (<see cref="ConnectionOptions"/>).
    /// </summary>
    /// <value>The default value is null.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the stream's key.</summary>
    /// <value>The default value is <c>immune:events</c>.</value>
    public string StreamKey { get; set; } = DefaultStreamKey;

    /// <summary>
    /// Gets or sets the largest envelope (its JSON, in bytes) the transport sends; a larger one fails at once as
    /// rejected (<see cref="EnvelopeRejectedException"/>), and the envelopes behind it go on. Keep it at or below the
    /// server's <c>proto-max-bulk-len</c>. From 1 KiB to 512 MiB.
    /// </summary>
    /// <value>The default value is 512 MiB, Redis's own default limit.</value>
    public long MaxEnvelopeBytes { get; set; } = 512L << 20;

    /// <summary>
    /// Gets or sets how often the producer trims the stream. A trim removes only entries every consumer group has read
    /// and acknowledged, and none younger than <see cref="MinRetention"/>; a stream without groups keeps its newest
    /// <see cref="UngroupedMaxLength"/>. From 1 second to 1 hour.
    /// </summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan TrimInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long every entry stays, read or not: what a consumer that restarts reads again to rebuild its fleet
    /// view. At 1,000 envelopes a second, an hour is about 3.6 million entries, some 2 GB of Redis memory. From zero to 30 days.
    /// </summary>
    /// <value>The default value is 1 hour.</value>
    public TimeSpan MinRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets how many entries a stream without any consumer group keeps (approximately: <c>MAXLEN ~</c>). From 1 to 1,000,000,000.</summary>
    /// <value>The default value is 100,000.</value>
    public long UngroupedMaxLength { get; set; } = 100_000;

    /// <summary>Gets or sets the consumer group that pages (one group per fleet: its consumers share the work).</summary>
    /// <value>The default value is <c>immune-consumers</c>.</value>
    public string Group { get; set; } = "immune-consumers";

    /// <summary>Gets or sets this consumer's name in the group; unique per consumer process.</summary>
    /// <value>The default value is the machine's name.</value>
    public string ConsumerName { get; set; } = Environment.MachineName;

    /// <summary>Gets or sets the stream that entries which are no envelope are moved to.</summary>
    /// <value>The default value is <c>immune:events:dead</c>.</value>
    public string DeadLetterKey { get; set; } = "immune:events:dead";

    /// <summary>Gets or sets how long an entry stays pending with a consumer before another reclaims it (the first may have died). From 1 second to 1 day.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan ReclaimAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many entries one read takes. From 1 to 10,000.</summary>
    /// <value>The default value is 256.</value>
    public int BatchSize { get; set; } = 256;

    /// <summary>Gets or sets how long a consumer waits after a read that found nothing new. From 1 millisecond to 1 minute.</summary>
    /// <value>The default value is 200 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets how long the pager ledger remembers an incident's last action. From 1 minute to 365 days.</summary>
    /// <value>The default value is 7 days.</value>
    public TimeSpan DedupFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets connection settings for a stream that must never wait for a connection: fail fast while Redis is down,
    /// reconnect in the background.
    /// </summary>
    /// <param name="connectionString">A StackExchange.Redis configuration string. Must not be null.</param>
    /// <returns>The settings to connect with.</returns>
    public static ConfigurationOptions ConnectionOptions(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ConfigurationOptions configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new LinearRetry(500);
        configuration.ConnectTimeout = 2_000;
        return configuration;
    }

    internal RedisStreamsOptions Clone() => (RedisStreamsOptions)MemberwiseClone();

    /// <summary>Throws one <see cref="ArgumentException"/> whose message names every invalid option.</summary>
    internal RedisStreamsOptions Validated()
    {
        var problems = new OptionsProblems(nameof(RedisStreamsOptions));
        if (ConnectionString is not null && string.IsNullOrWhiteSpace(ConnectionString)) problems.Add("ConnectionString must be null or a configuration string.");
        if (string.IsNullOrWhiteSpace(StreamKey)) problems.Add("StreamKey must not be null, empty or whitespace.");
        if (string.IsNullOrWhiteSpace(Group)) problems.Add("Group must not be null, empty or whitespace.");
        if (string.IsNullOrWhiteSpace(ConsumerName)) problems.Add("ConsumerName must not be null, empty or whitespace.");
        if (string.IsNullOrWhiteSpace(DeadLetterKey)) problems.Add("DeadLetterKey must not be null, empty or whitespace.");
        else if (DeadLetterKey == StreamKey) problems.Add("DeadLetterKey must differ from StreamKey.");
        problems.Range(nameof(MaxEnvelopeBytes), MaxEnvelopeBytes, 1 << 10, 512L << 20);
        problems.Range(nameof(TrimInterval), TrimInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        problems.Range(nameof(MinRetention), MinRetention, TimeSpan.Zero, TimeSpan.FromDays(30));
        problems.Range(nameof(UngroupedMaxLength), UngroupedMaxLength, 1, 1_000_000_000);
        problems.Range(nameof(ReclaimAfter), ReclaimAfter, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        problems.Range(nameof(BatchSize), BatchSize, 1, 10_000);
        problems.Range(nameof(PollInterval), PollInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        problems.Range(nameof(DedupFor), DedupFor, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365));
        problems.ThrowIfAny();
        return this;
    }
}
