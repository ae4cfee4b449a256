using Immune.Internal;

namespace Immune.Nats;

/// <summary>
/// The JetStream stream Immune writes to and reads from, the settings it is created with, and the consumer side's:
/// the producer's transport (<see cref="NatsJetStreamEventStream"/>), the fleet feed (<see cref="NatsFleetFeed"/>), the
/// durable consumer that pages (<see cref="NatsConsumerGroup"/>) and its ledger (<see cref="NatsPagerLedger"/>).
/// Validated when it is registered or a part is built; each part keeps a copy.
/// </summary>
public sealed class NatsJetStreamOptions
{
    /// <summary>
    /// Gets or sets the server's URL (<c>nats://localhost:4222</c>), or a cluster's, separated by commas (the client
    /// fails over between them); null to use the <c>INatsConnection</c> registered in the container.
    /// </summary>
    /// <value>The default value is null.</value>
    public string? Url { get; set; }

    /// <summary>Gets or sets the stream's name.</summary>
    /// <value>The default value is <c>IMMUNE</c>.</value>
    public string StreamName { get; set; } = "IMMUNE";

    /// <summary>
    /// Gets or sets the subject prefix: each envelope goes to <c>&lt;prefix&gt;.&lt;type&gt;</c> (for example
    /// <c>immune.events.immune.critical_event</c>), and the stream captures <c>&lt;prefix&gt;.&gt;</c>.
    /// </summary>
    /// <value>The default value is <c>immune.events</c>.</value>
    public string SubjectPrefix { get; set; } = "immune.events";

    /// <summary>
    /// Gets or sets whether the transport creates the stream (or brings it to these settings) before its first publish,
    /// and the consumer side before its first read. Turn it off when the stream is made by other means (a deployment,
    /// the <c>nats</c> CLI) with <see cref="NatsJetStreamEventStream.StreamConfig(NatsJetStreamOptions, int)"/>.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool CreateStream { get; set; } = true;

    /// <summary>
    /// Gets or sets how long the server remembers a message id (<c>Nats-Msg-Id</c>, the envelope's id) to drop a second
    /// copy: a retried batch, or a publish whose acknowledgement was lost. Keep it longer than the producers'
    /// <c>DeliveryTimeout</c>. From 1 second to 1 day.
    /// </summary>
    /// <value>The default value is 5 minutes.</value>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how long envelopes are kept, read or not: the one limit under which the server removes messages a
    /// consumer has not acknowledged. From 1 minute to 365 days.
    /// </summary>
    /// <value>The default value is 7 days.</value>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets how many bytes the stream holds; when full, the server refuses new messages (discard new), the
    /// producers hold and forward them as in an outage, and nothing unread is dropped. -1 for no limit but the server's.
    /// </summary>
    /// <value>The default value is 1 GiB.</value>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>Gets or sets how many messages the stream holds (refusing new ones beyond, as <see cref="MaxBytes"/>); -1 for no limit.</summary>
    /// <value>The default value is -1.</value>
    public long MaxMessages { get; set; } = -1;

    /// <summary>
    /// Gets or sets how often the producer trims the stream: it removes only messages every durable consumer (group) has
    /// acknowledged, and none younger than <see cref="MinRetention"/>; a stream without durable consumers keeps its newest
    /// <see cref="UngroupedMaxMessages"/>. From 1 second to 1 hour.
    /// </summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan TrimInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long every message stays, read or not: what a consumer that restarts reads again to rebuild its
    /// fleet view. From zero to 30 days (and at most <see cref="MaxAge"/>, which removes even unread messages).
    /// </summary>
    /// <value>The default value is 1 hour.</value>
    public TimeSpan MinRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets how many messages a stream without durable consumers keeps. From 1 to 1,000,000,000.</summary>
    /// <value>The default value is 100,000.</value>
    public long UngroupedMaxMessages { get; set; } = 100_000;

    /// <summary>Gets or sets how many servers of a cluster keep the stream: 1, 3 or 5.</summary>
    /// <value>The default value is 1.</value>
    public int Replicas { get; set; } = 1;

    /// <summary>Gets or sets the durable consumer that pages (one per fleet: its consumer processes share the messages).</summary>
    /// <value>The default value is <c>immune-consumers</c>.</value>
    public string Group { get; set; } = "immune-consumers";

    /// <summary>Gets or sets the subject that messages which are no envelope are moved to (a stream of its own, <c>&lt;StreamName&gt;_DEAD</c>).</summary>
    /// <value>The default value is <c>immune.dead</c>.</value>
    public string DeadLetterSubject { get; set; } = "immune.dead";

    /// <summary>Gets or sets how long a message stays unacknowledged with a consumer before it goes to another (the first may have died). From 1 second to 1 day.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan ReclaimAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many messages one read takes. From 1 to 10,000.</summary>
    /// <value>The default value is 256.</value>
    public int BatchSize { get; set; } = 256;

    /// <summary>Gets or sets how long a consumer waits after a read that found nothing new. From 1 millisecond to 1 minute.</summary>
    /// <value>The default value is 200 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets how long the pager ledger remembers an incident's last action. From 1 minute to 365 days.</summary>
    /// <value>The default value is 7 days.</value>
    public TimeSpan DedupFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets how many shards the fleet's envelopes are divided into, by source (<see cref="ShardOf"/>): each shard
    /// is a stream of its own, <c>&lt;StreamName&gt;_&lt;shard&gt;</c> capturing <c>&lt;prefix&gt;.&lt;shard&gt;.&gt;</c>, so
    /// a cluster spreads the streams' leaders over its servers and consumers divide the shards. With 1 (the default) there
    /// is one stream, <see cref="StreamName"/>, capturing <c>&lt;prefix&gt;.&gt;</c>. Producers and consumers of a fleet
    /// must agree on it; a changed count needs a new <see cref="StreamName"/> and <see cref="SubjectPrefix"/> (the
    /// server refuses streams whose subjects overlap). From 1 to 1,024.
    /// </summary>
    /// <value>The default value is 1.</value>
    public int Shards { get; set; } = 1;

    /// <summary>
    /// Gets or sets how long a consumer's lease on a shard lasts unless renewed, with several <see cref="Shards"/>: the
    /// group's members divide the shards by leases in a key-value bucket (<c>&lt;StreamName&gt;_LEASES</c>), each renewing
    /// its own every quarter of this (at most every second), and a dead member's shards go to the survivors once its
    /// leases run out. From 1 second to 10 minutes.
    /// </summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets the shard of a source: the 32-bit FNV-1a hash of the source's UTF-8 bytes (offset basis 2166136261, prime
    /// 16777619, each byte XORed in before the multiplication, arithmetic modulo 2^32), as an unsigned number, modulo
    /// <see cref="Shards"/>. Stable across processes, versions and languages; for example FNV-1a of <c>"a"</c> is
    /// <c>0xE40C292C</c>, so <c>"a"</c> is shard 0 of 4.
    /// </summary>
    /// <param name="source">The envelope's <see cref="EventEnvelope.Source"/>. Must not be null.</param>
    /// <returns>The shard, from 0 to <see cref="Shards"/> − 1.</returns>
    public int ShardOf(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (Shards <= 1)
        {
            return 0;
        }

        Span<byte> stack = stackalloc byte[256];
        int length = System.Text.Encoding.UTF8.GetMaxByteCount(source.Length) <= stack.Length ? System.Text.Encoding.UTF8.GetBytes(source, stack) : -1;
        ReadOnlySpan<byte> bytes = length >= 0 ? stack[..length] : System.Text.Encoding.UTF8.GetBytes(source);
        uint hash = 2166136261;
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)(hash % (uint)Shards);
    }

    /// <summary>Gets the name of a shard's stream: <see cref="StreamName"/> with one shard, <c>&lt;StreamName&gt;_&lt;shard&gt;</c> with several.</summary>
    /// <param name="shard">The shard, from 0 to <see cref="Shards"/> − 1.</param>
    /// <returns>The stream's name.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard.</exception>
    public string StreamNameOf(int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, Math.Max(1, Shards));
        return Shards <= 1 ? StreamName : $"{StreamName}_{shard.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Gets the subject of one envelope type in an unsharded stream: <c>&lt;prefix&gt;.&lt;type&gt;</c>.</summary>
    /// <param name="envelopeType">The envelope's <see cref="EventEnvelope.Type"/>. Must not be null.</param>
    /// <returns>The subject.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Shards"/> is more than 1: the subject depends on the source (<see cref="SubjectOf(EventEnvelope)"/>).</exception>
    public string SubjectOf(string envelopeType)
        => Shards <= 1 ? $"{SubjectPrefix}.{envelopeType}" : throw new InvalidOperationException($"With {Shards} shards the subject depends on the envelope's source: use SubjectOf(EventEnvelope).");

    /// <summary>Gets the subject an envelope is published to: <c>&lt;prefix&gt;.&lt;type&gt;</c>, or <c>&lt;prefix&gt;.&lt;shard&gt;.&lt;type&gt;</c> with several <see cref="Shards"/>.</summary>
    /// <param name="envelope">The envelope. Must not be null.</param>
    /// <returns>The subject.</returns>
    public string SubjectOf(EventEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return Shards <= 1 ? $"{SubjectPrefix}.{envelope.Type}" : $"{SubjectPrefix}.{ShardOf(envelope.Source).ToString(System.Globalization.CultureInfo.InvariantCulture)}.{envelope.Type}";
    }

    /// <summary>The subjects a shard's stream captures (and its consumers filter on: one subject, as Debian's nats-server 2.9 reads a single filter only).</summary>
    internal string FilterOf(int shard) => Shards <= 1 ? $"{SubjectPrefix}.>" : $"{SubjectPrefix}.{shard.ToString(System.Globalization.CultureInfo.InvariantCulture)}.>";

    internal NatsJetStreamOptions Clone() => (NatsJetStreamOptions)MemberwiseClone();

    /// <summary>The settings of one of the fleet's key-value buckets (the pager ledger, the leases, the floors): the last value of each key, on file, as many replicas as the stream.</summary>
    internal NATS.Client.KeyValueStore.NatsKVConfig BucketConfig(string bucket, TimeSpan maxAge)
        => new(bucket) { History = 1, MaxAge = maxAge, Storage = NATS.Client.KeyValueStore.NatsKVStorageType.File, NumberOfReplicas = Replicas };

    /// <summary>Throws one <see cref="ArgumentException"/> whose message names every invalid option.</summary>
    internal NatsJetStreamOptions Validated()
    {
        var problems = new OptionsProblems(nameof(NatsJetStreamOptions));
        if (Url is not null && !Url.Split(',').All(url => Uri.TryCreate(url.Trim(), UriKind.Absolute, out _))) problems.Add("Url must be null, or absolute URLs (nats://host:port) separated by commas.");
        if (string.IsNullOrWhiteSpace(StreamName) || StreamName.AsSpan().IndexOfAny(" .*>\t") >= 0) problems.Add("StreamName must be a name without spaces, dots, '*' or '>'.");
        if (!IsSubject(SubjectPrefix, wildcards: false)) problems.Add("SubjectPrefix must be a subject without wildcards (tokens of letters, digits, '-' or '_', joined by dots).");
        if (string.IsNullOrWhiteSpace(Group) || Group.AsSpan().IndexOfAny(" .*>\t") >= 0) problems.Add("Group must be a name without spaces, dots, '*' or '>'.");
        if (!IsSubject(DeadLetterSubject, wildcards: false)) problems.Add("DeadLetterSubject must be a subject without wildcards.");
        else if (DeadLetterSubject.StartsWith(SubjectPrefix + ".", StringComparison.Ordinal)) problems.Add("DeadLetterSubject must not lie under SubjectPrefix.");
        problems.Range(nameof(DuplicateWindow), DuplicateWindow, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        problems.Range(nameof(MaxAge), MaxAge, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365));
        if (MaxBytes != -1) problems.Range(nameof(MaxBytes), MaxBytes, 1L << 20, long.MaxValue);
        if (MaxMessages != -1) problems.Range(nameof(MaxMessages), MaxMessages, 1, long.MaxValue);
        problems.Range(nameof(TrimInterval), TrimInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        problems.Range(nameof(MinRetention), MinRetention, TimeSpan.Zero, TimeSpan.FromDays(30));
        problems.Range(nameof(UngroupedMaxMessages), UngroupedMaxMessages, 1, 1_000_000_000);
        if (Replicas is not (1 or 3 or 5)) problems.Add($"Replicas must be 1, 3 or 5 (was {Replicas}).");
        problems.Range(nameof(ReclaimAfter), ReclaimAfter, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        problems.Range(nameof(BatchSize), BatchSize, 1, 10_000);
        problems.Range(nameof(PollInterval), PollInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        problems.Range(nameof(DedupFor), DedupFor, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365));
        problems.Range(nameof(Shards), Shards, 1, 1024);
        problems.Range(nameof(LeaseTtl), LeaseTtl, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        problems.ThrowIfAny();
        return this;
    }

    private static bool IsSubject(string? subject, bool wildcards)
    {
        if (string.IsNullOrEmpty(subject))
        {
            return false;
        }

        foreach (string token in subject.Split('.'))
        {
            if (token.Length == 0 || (!wildcards && token is "*" or ">") || token.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                return false;
            }
        }

        return true;
    }
}
