using Immune.Internal;

namespace Immune;

/// <summary>Options of <see cref="ImmuneService"/>. Validated when the service is built or registered; the service keeps a copy.</summary>
public sealed class ImmuneOptions
{
    /// <summary>The default <see cref="Source"/>: <c>"immune_service"</c>.</summary>
    public const string DefaultSource = "immune_service";

    private const int MaxCapacity = 100_000_000;
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>Gets or sets how envelopes reach the stream.</summary>
    /// <value>The default value is <see cref="ImmuneDelivery.Background"/>.</value>
    public ImmuneDelivery Delivery { get; set; } = ImmuneDelivery.Background;

    /// <summary>Gets or sets the <see cref="EventEnvelope.Source"/> of every envelope. Must not be empty or whitespace.</summary>
    /// <value>The default value is <c>"immune_service"</c>.</value>
    public string Source { get; set; } = DefaultSource;

    /// <summary>Gets or sets how many events the service keeps; when full, the oldest leaves first. From 1 to 100,000,000.</summary>
    /// <value>The default value is 10,000.</value>
    public int RetentionCapacity { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how many envelopes may wait for delivery in memory; when full, INFO and WARNING envelopes are shed
    /// before CRITICAL ones. With a <see cref="SpoolDirectory"/>, envelopes beyond it wait on disk instead and are read
    /// back in order, so only <see cref="SpoolCapacityBytes"/> sheds. From 1 to 100,000,000.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how many envelopes the delivery loop takes at a time: one call of an <see cref="IBatchEventStream"/>
    /// carries up to this many, and a plain <see cref="IEventStream"/> gets them one by one. Batches form from what is
    /// queued, without waiting to fill. Envelopes taken are no longer shed, so at most <see cref="QueueCapacity"/> plus
    /// this many are pending in memory. From 1 to 10,000.
    /// </summary>
    /// <value>The default value is 256.</value>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>Gets or sets how long one attempt to publish an envelope (or one batch call) may take before it counts as timed out, enforced by the service even when the stream blocks or ignores its token. Greater than zero.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long disposal drains the queue before it drops what remains. Zero or more.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long the service keeps trying to deliver an envelope, counted on the service's
    /// <see cref="TimeProvider"/> timestamp (monotonic, not the wall clock) from when this service queued it (or
    /// replayed it from the spool). While the stream fails, the oldest envelopes are retried and everything behind them
    /// waits in order. An envelope fails for its deadline only once the stream was tried and failed at or after it (its
    /// own attempt, with that attempt's reason, or that of the head it waited behind, reason <c>timeout</c>); an attempt
    /// in flight at the deadline ends there, and one that starts after it has its full <see cref="PublishTimeout"/>.
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps trying for as long as the service runs. Greater than zero, at most
    /// about 24.8 days, or infinite.
    /// </summary>
    /// <value>The default value is 2 minutes.</value>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets how many times an envelope is attempted before it counts as failed, whatever its
    /// <see cref="DeliveryTimeout"/> has left; it fails when either runs out, whichever first. At least 1.
    /// </summary>
    /// <value>The default value is <see cref="int.MaxValue"/>: no limit but <see cref="DeliveryTimeout"/>.</value>
    public int DeliveryAttempts { get; set; } = int.MaxValue;

    /// <summary>
    /// Gets or sets the delay before the second attempt; each later retry doubles it up to <see cref="MaxRetryDelay"/>,
    /// then ±20% jitter. Zero or more, at most one minute.
    /// </summary>
    /// <value>The default value is 100 milliseconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets the longest delay between two attempts, before jitter: the wait before retry <c>k</c> (the first is
    /// 0) is <c>min(RetryDelay · 2^k, max(RetryDelay, MaxRetryDelay))</c>, then ±20% jitter. While the stream is down
    /// this is how soon after it returns delivery notices. Greater than zero, at most one hour.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the least time between two log entries about failed or dropped envelopes; those in between are counted in the next entry. Zero or more.</summary>
    /// <value>The default value is 1 minute.</value>
    public TimeSpan DeliveryLogInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how long an event folds identical publishes into itself (same severity, type, message, agent id and
    /// module; meta is not compared). A folded publish returns the event's id, records nothing new and queues no
    /// envelope; the event's <see cref="ImmuneEvent.Occurrences"/> and <see cref="ImmuneEvent.LastSeenAt"/> grow, and
    /// when its window closes one <c>immune.event_repeated</c> envelope reports the total. <see cref="TimeSpan.Zero"/>
    /// turns folding off. From zero to about 24.8 days.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/>: off.</value>
    public TimeSpan FoldWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets the directory of the durable spool, or null for none. When set, every envelope is written there
    /// (length-prefixed, checksummed <see cref="ImmuneJson"/>) before <see cref="ImmuneService.PublishAsync"/> returns,
    /// and stays until it is settled; a service constructed on the directory after a crash or kill delivers what the
    /// previous one left unsettled, with the same envelope ids, before anything new. The spool is the queue: beyond
    /// <see cref="QueueCapacity"/> envelopes wait on disk, and a replay streams from the files, whatever its size. The directory is created
    /// owner-only where the platform allows; one service owns it at a time (a second one fails at construction).
    /// Use a directory of this service's own, never a shared temporary path. Ignored without an <see cref="IEventStream"/>.
    /// </summary>
    /// <value>The default value is null: no spool.</value>
    public string? SpoolDirectory { get; set; }

    /// <summary>
    /// Gets or sets how many bytes of unsettled envelopes the spool holds. When it is full, INFO and WARNING envelopes
    /// are shed first (the last tenth is kept for CRITICAL ones) and counted as dropped, reason <c>spool_full</c>.
    /// From 1 MiB to 1 TiB.
    /// </summary>
    /// <value>The default value is 256 MiB.</value>
    public long SpoolCapacityBytes { get; set; } = 256L << 20;

    /// <summary>
    /// Gets or sets how often the spool forces what was written to the disk itself and records what was settled.
    /// Envelopes reach the operating system before <see cref="ImmuneService.PublishAsync"/> returns, so a killed process
    /// loses none of them; this interval bounds what a power loss may take. With <see cref="TimeSpan.Zero"/> a publish
    /// completes only once its envelopes are on the disk itself (slow): concurrent publishers share one fsync and wait
    /// for it without holding a thread. From zero to one hour.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan SpoolSyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest accepted <see cref="NewImmuneEvent.Message"/>, in characters. At least 1.</summary>
    /// <value>The default value is 4,096.</value>
    public int MaxMessageLength { get; set; } = 4096;

    /// <summary>Gets or sets the longest accepted <see cref="NewImmuneEvent.AgentId"/>, in characters. At least 1.</summary>
    /// <value>The default value is 256.</value>
    public int MaxAgentIdLength { get; set; } = 256;

    /// <summary>Gets or sets the longest accepted <see cref="NewImmuneEvent.Module"/>, in characters. At least 1.</summary>
    /// <value>The default value is 256.</value>
    public int MaxModuleLength { get; set; } = 256;

    /// <summary>Gets or sets how many entries each dictionary or list in <see cref="NewImmuneEvent.Meta"/> may hold. Zero or more.</summary>
    /// <value>The default value is 64.</value>
    public int MaxMetaEntries { get; set; } = 64;

    /// <summary>
    /// Gets or sets how deeply dictionaries and lists may nest in <see cref="NewImmuneEvent.Meta"/>; the meta itself is
    /// level 1. From 1 to 32, so that every accepted meta can be written and read back by <see cref="ImmuneJson"/> and
    /// <see cref="ImmuneCloudEvents"/> (whose readers allow 64 levels in a whole document).
    /// </summary>
    /// <value>The default value is 8.</value>
    public int MaxMetaDepth { get; set; } = 8;

    /// <summary>
    /// Gets or sets how many values <see cref="NewImmuneEvent.Meta"/> may hold in all, counting every entry and list item
    /// at every level (a dictionary or list shared by several entries counts each time). This bounds the work and
    /// memory of one event whatever the shape of its meta. At least 1.
    /// </summary>
    /// <value>The default value is 1,024.</value>
    public int MaxMetaValues { get; set; } = 1024;

    /// <summary>Gets or sets the longest string, key or value, accepted anywhere in <see cref="NewImmuneEvent.Meta"/>, in characters. At least 1.</summary>
    /// <value>The default value is 4,096.</value>
    public int MaxMetaStringLength { get; set; } = 4096;

    /// <summary>The largest <see cref="MaxMetaDepth"/>: envelope, payload and meta nesting stay within the readers' 64 levels.</summary>
    internal const int MetaDepthLimit = 32;

    internal ImmuneOptions Clone() => (ImmuneOptions)MemberwiseClone();

    /// <summary>Throws one <see cref="ArgumentException"/> whose message names every invalid option.</summary>
    internal void Validate()
    {
        var problems = new OptionsProblems(nameof(ImmuneOptions));
        if (!Enum.IsDefined(Delivery)) problems.Add($"Delivery must be Background or Inline (was {(int)Delivery}).");
        if (string.IsNullOrWhiteSpace(Source)) problems.Add("Source must not be null, empty or whitespace.");
        problems.Range(nameof(RetentionCapacity), RetentionCapacity, 1, MaxCapacity);
        problems.Range(nameof(QueueCapacity), QueueCapacity, 1, MaxCapacity);
        problems.Range(nameof(MaxBatchSize), MaxBatchSize, 1, 10_000);
        problems.Range(nameof(PublishTimeout), PublishTimeout, TimeSpan.FromTicks(1), MaxTimeout);
        problems.Range(nameof(ShutdownTimeout), ShutdownTimeout, TimeSpan.Zero, MaxTimeout);
        if (DeliveryTimeout != Timeout.InfiniteTimeSpan) problems.Range(nameof(DeliveryTimeout), DeliveryTimeout, TimeSpan.FromTicks(1), MaxTimeout, orInfinite: true);
        problems.Range(nameof(DeliveryAttempts), DeliveryAttempts, 1, int.MaxValue);
        problems.Range(nameof(RetryDelay), RetryDelay, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        problems.Range(nameof(MaxRetryDelay), MaxRetryDelay, TimeSpan.FromTicks(1), TimeSpan.FromHours(1));
        problems.Range(nameof(DeliveryLogInterval), DeliveryLogInterval, TimeSpan.Zero, MaxTimeout);
        problems.Range(nameof(FoldWindow), FoldWindow, TimeSpan.Zero, MaxTimeout);
        if (SpoolDirectory is not null && string.IsNullOrWhiteSpace(SpoolDirectory)) problems.Add("SpoolDirectory must be null or a directory path.");
        problems.Range(nameof(SpoolCapacityBytes), SpoolCapacityBytes, 1L << 20, 1L << 40);
        problems.Range(nameof(SpoolSyncInterval), SpoolSyncInterval, TimeSpan.Zero, TimeSpan.FromHours(1));
        problems.Range(nameof(MaxMessageLength), MaxMessageLength, 1, int.MaxValue);
        problems.Range(nameof(MaxAgentIdLength), MaxAgentIdLength, 1, int.MaxValue);
        problems.Range(nameof(MaxModuleLength), MaxModuleLength, 1, int.MaxValue);
        problems.Range(nameof(MaxMetaEntries), MaxMetaEntries, 0, int.MaxValue);
        problems.Range(nameof(MaxMetaDepth), MaxMetaDepth, 1, MetaDepthLimit);
        problems.Range(nameof(MaxMetaValues), MaxMetaValues, 1, int.MaxValue);
        problems.Range(nameof(MaxMetaStringLength), MaxMetaStringLength, 1, int.MaxValue);
        problems.ThrowIfAny();
    }
}
