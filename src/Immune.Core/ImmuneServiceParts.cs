using Immune.Delivery;
using Immune.Folding;
using Immune.Spool;

namespace Immune;

/// <summary>
/// What a service is built of, for the tests that must reach inside it (the delivery loop, the spool's turns, the fold
/// index): kept off the service's own surface.
/// </summary>
internal sealed class ImmuneServiceParts(DeliveryPipeline? pipeline, EnvelopeSpool? spool, FoldTimer? folding)
{
    /// <summary>Gets the spool's write turn, for tests that stall the disk.</summary>
    public object? SpoolWriteTurn => pipeline?.SpoolWriteTurn;

    /// <summary>Gets the spool's last sequence on the disk, its fsync count and its last sequence written, for tests of durability and group commit.</summary>
    public (long DurableThrough, long Forced, long WrittenThrough) SpoolDurability => spool?.Durability ?? default;

    /// <summary>Holds the spool's fsyncs back until disposed, for tests of group commit.</summary>
    public IDisposable HoldSpoolForcing() => spool!.HoldForcing();

    /// <summary>Gets the fold index's size, for tests of its bound.</summary>
    public int FoldIndexCount => folding?.Folder.IndexedCount ?? 0;

    /// <summary>Gets how long ago the oldest pending envelope was queued (the <c>immune.queue.oldest_age</c> gauge).</summary>
    public TimeSpan OldestPendingAge => pipeline?.OldestPendingAge ?? TimeSpan.Zero;

    /// <summary>Gets the delivery loop, for tests that must see it end.</summary>
    public Task DeliveryLoop => pipeline?.Loop ?? Task.CompletedTask;
}
