using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Spool;

/// <summary>
/// A disk that fills under the spool, on a real (small) file system: what is on the disk is still read back and
/// delivered, only what could not be written is held in memory, no publish fails, and once space is free again the
/// spool writes again.
/// </summary>
public sealed class DiskFullTests
{
    [TmpfsFact]
    public async Task PublishAsync_DiskFillsWhileTheStreamIsHeld_WhatIsOnDiskIsDelivered_OnlyTheUnwrittenIsHeldInMemory_ThenWritesResume()
    {
        using var disk = new Tmpfs(2 << 20);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        var logger = new FakeLogger<ImmuneService>();
        var release = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(release);
        var options = new ImmuneOptions
        {
            SpoolDirectory = Path.Combine(disk.Path, "spool"),
            SpoolCapacityBytes = 64 << 20, // far beyond the disk: the disk fills first
            QueueCapacity = 50,
            MaxBatchSize = 16,
        };
        await using var service = new ImmuneService(stream, options, logger, time);
        string big = new('x', 2000);

        int published = 0;
        while (logger.WithName("SpoolUnavailable").Count == 0)
        {
            published.ShouldBeLessThan(5_000, "the disk never filled");
            await service.PublishAsync(Events.Info($"{published++} {big}")); // never throws
        }

        long written = service.Parts.SpoolDurability.WrittenThrough;
        written.ShouldBeGreaterThan(500); // hundreds wait on the disk only, beyond the 50 in memory
        var criticals = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            criticals.Add(await service.PublishAsync(Events.Critical($"critical {i}")));
        }

        release.SetResult();
        await service.Flushed();

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        stats.DroppedSpoolFull.ShouldBe(0, "what is on the disk is read back, not shed");
        (stats.Delivered + stats.DroppedQueueFull).ShouldBe(stats.Queued);
        stats.DroppedQueueFull.ShouldBeLessThanOrEqualTo(stats.Queued - written, "only envelopes held in memory were shed");
        stream.Accepted.Where(e => e.Type == ImmuneEventTypes.CriticalEvent).Select(e => e.Payload.EventId).ShouldBe(criticals);
        stream.Accepted.Select(e => e.Payload.EventId).ShouldBeInOrder(SortDirection.Ascending);

        // Delivered, the full segments are deleted at the next sync, the disk has room again, and the spool writes again.
        time.Advance(options.SpoolSyncInterval);
        for (int i = 0; i < 20; i++)
        {
            await service.PublishAsync(Events.Warning($"after {i}"));
        }

        service.Parts.SpoolDurability.WrittenThrough.ShouldBe(service.GetDeliveryStats().Queued);
        await service.Flushed();
        service.GetDeliveryStats().Pending.ShouldBe(0);
        stream.Accepted.Count(e => e.Payload.Message.StartsWith("after ", StringComparison.Ordinal)).ShouldBe(20);
    }
}
