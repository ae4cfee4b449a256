using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Spool;

/// <summary>The service with a spool on a real disk: what one service leaves, the next on the directory delivers.</summary>
public sealed class ImmuneServiceSpoolTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string SpoolPath => _temp.Path;

    public void Dispose() => _temp.Dispose();

    private ImmuneOptions Options(Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions { SpoolDirectory = SpoolPath };
        configure?.Invoke(options);
        return options;
    }

    private static ScriptedStream Hanging() => new(call => new ValueTask(Task.Delay(Timeout.Infinite, call.Token)));

    [Fact]
    public async Task Constructor_AfterAServiceLeftEnvelopesUndelivered_DeliversThemFirstWithTheSameIds()
    {
        ScriptedStream hanging = Hanging();
        var first = new ImmuneService(hanging, Options(o => o.ShutdownTimeout = TimeSpan.Zero));
        await first.PublishAsync(Events.Info("one"));
        await first.PublishAsync(Events.Critical("two"));
        await first.PublishAsync(Events.Warning("three"));
        string inFlight = (await hanging.WhenCalled(1)).Envelope.Id;
        await first.DisposeAsync(); // the stream never accepted anything: all four are dropped here, and stay spooled
        first.GetDeliveryStats().DroppedShutdown.ShouldBe(4);

        var stream = new InMemoryEventStream();
        ImmuneService second = new(stream, Options());
        await second.PublishAsync(Events.Info("new"));
        await second.Flushed();

        stream.Envelopes.Select(e => (e.Type, e.Payload.Message)).ShouldBe(
        [
            (ImmuneEventTypes.EventPublished, "one"), (ImmuneEventTypes.EventPublished, "two"), (ImmuneEventTypes.CriticalEvent, "two"),
            (ImmuneEventTypes.EventPublished, "three"), (ImmuneEventTypes.EventPublished, "new"),
        ]);
        stream.Envelopes[0].Id.ShouldBe(inFlight);
        stream.Envelopes.Take(4).ShouldAllBe(e => e.Meta.InstanceId == first.InstanceId);
        stream.Envelopes[4].Meta.InstanceId.ShouldBe(second.InstanceId);
        ImmuneDeliveryStats stats = second.GetDeliveryStats();
        stats.Replayed.ShouldBe(4);
        stats.Queued.ShouldBe(5);
        stats.Delivered.ShouldBe(5);
        stats.ShouldBeBalanced();
        await second.DisposeAsync();

        await using var third = new ImmuneService(new InMemoryEventStream(), Options());
        third.GetDeliveryStats().Replayed.ShouldBe(0); // everything was settled
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PublishAsync_StreamHeldWhileTwentyTimesQueueCapacityIsPublished_TheRestWaitsOnDiskNothingShedAllDeliveredInOrder(bool batches)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var accepted = new List<EventEnvelope>();
        ValueTask Accept(IEnumerable<EventEnvelope> envelopes)
        {
            if (held.TrySetResult())
            {
                return new ValueTask(release.Task.ContinueWith(_ => { lock (accepted) accepted.AddRange(envelopes); }, TaskScheduler.Default));
            }

            lock (accepted) accepted.AddRange(envelopes);
            return ValueTask.CompletedTask;
        }

        IEventStream stream = batches ? new DelegateBatchStream(b => Accept(b.ToArray())) : new DelegateStream(e => Accept([e]));
        await using var service = new ImmuneService(stream, Options(o => { o.QueueCapacity = 50; o.MaxBatchSize = 16; o.PublishTimeout = TimeSpan.FromMinutes(5); }));
        var ids = new List<long> { await service.PublishAsync(Events.Info("head")) };
        await held.Task.WaitAsync(Events.HangGuard); // the broker holds the first call: everything else queues behind it
        for (int i = 0; i < 1_000; i++)
        {
            ids.Add(await service.PublishAsync(i % 10 == 0 ? Events.Critical($"e{i}") : Events.Info($"e{i}")));
        }

        service.GetDeliveryStats().Pending.ShouldBe(1_101); // none shed: 50 in memory, the rest on disk
        (await service.PublishAsync(Events.Info("tail"))).ShouldBe(1_002);
        release.SetResult();
        await service.Flushed();

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        (stats.Delivered, stats.Dropped, stats.Failed, stats.Pending).ShouldBe((1_102L, 0L, 0L, 0L));
        List<EventEnvelope> delivered;
        lock (accepted) delivered = [.. accepted];
        delivered.Where(e => e.Type == ImmuneEventTypes.EventPublished).Select(e => e.Payload.EventId).ShouldBe([.. ids, 1_002]);
        delivered.Select(e => e.Payload.EventId).ShouldBeInOrder(SortDirection.Ascending);
        delivered.Select(e => e.Id).Distinct().Count().ShouldBe(1_102);
        delivered.Count(e => e.Type == ImmuneEventTypes.CriticalEvent).ShouldBe(100);
    }

    [Fact]
    public async Task Constructor_BacklogOfFiftyTimesQueueCapacityLeft_StreamsItFromDiskAndDeliversEveryEnvelopeInOrder()
    {
        var first = new ImmuneService(Hanging(), Options(o => o.ShutdownTimeout = TimeSpan.Zero));
        for (int i = 1; i <= 5_000; i++)
        {
            await first.PublishAsync(Events.Info($"left {i}"));
        }

        await first.DisposeAsync(); // nothing was delivered: all of it stays spooled

        var stream = new InMemoryEventStream(100_000);
        await using var next = new ImmuneService(stream, Options(o => o.QueueCapacity = 100));
        await next.Flushed();

        ImmuneDeliveryStats stats = next.GetDeliveryStats();
        (stats.Replayed, stats.Delivered, stats.Dropped).ShouldBe((5_000L, 5_000L, 0L));
        stream.Envelopes.Select(e => e.Payload.Message).ShouldBe(Enumerable.Range(1, 5_000).Select(i => $"left {i}"));
    }

    [Fact]
    public async Task PublishAsync_TinySpoolAndAHealthyStream_NothingShedBecauseSettledSpaceIsFreeAtOnce()
    {
        var stream = new InMemoryEventStream(10);
        await using var service = new ImmuneService(stream, Options(o => o.SpoolCapacityBytes = 1 << 20));
        string message = new('x', 3_500);

        for (int i = 0; i < 700; i++)
        {
            await service.PublishAsync(Events.Info(message));
            await service.Flushed();
        }

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.DroppedSpoolFull).ShouldBe((700L, 0L)); // 2.5 MB through a 1 MiB spool, one sync tick at most
    }

    [Fact]
    public async Task Constructor_LargestEventTheDefaultLimitsAccept_IsSpooledAndReplayedWholeWithNoDamage()
    {
        // Every string at its longest, of a character JSON escapes in six bytes: about 25 MB on the wire.
        string text = new('\u0001', 4_096);
        var meta = new Dictionary<string, object?>();
        for (int i = 0; i < 16; i++)
        {
            meta[$"k{i}"] = Enumerable.Range(0, 63).ToDictionary(j => $"v{j}", _ => (object?)text);
        }

        NewImmuneEvent largest = Events.Critical(text) with { AgentId = new string('\u0001', 256), Module = new string('\u0001', 256), Meta = meta };
        ScriptedStream hanging = Hanging();
        var first = new ImmuneService(hanging, Options(o => o.ShutdownTimeout = TimeSpan.Zero));
        await first.PublishAsync(largest);
        await first.DisposeAsync(); // both envelopes dropped for want of time: they stay spooled

        var logger = new FakeLogger<ImmuneService>();
        var stream = new InMemoryEventStream();
        await using var second = new ImmuneService(stream, Options(), logger);
        await second.Flushed();

        ImmuneJson.SerializeToUtf8Bytes(stream.Envelopes[0]).Length.ShouldBeGreaterThan(16 << 20);
        stream.Envelopes.Select(e => e.Type).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent]);
        stream.Envelopes[0].Payload.Message.ShouldBe(text);
        ((IReadOnlyDictionary<string, object?>)stream.Envelopes[1].Payload.Meta!["k15"]!)["v62"].ShouldBe(text);
        logger.WithName("SpoolDamaged").ShouldBeEmpty();
        Directory.GetFiles(SpoolPath, "*.damaged").ShouldBeEmpty();
    }

    [Fact]
    public async Task Constructor_DamagedSpoolFile_DeliversTheIntactRecordsLogsAndMovesTheFileAside()
    {
        ImmuneService first = new(Hanging(), Options(o => o.ShutdownTimeout = TimeSpan.Zero));
        await first.PublishAsync(Events.Info("kept"));
        await first.PublishAsync(Events.Info("torn"));
        await first.DisposeAsync();
        string segment = Directory.GetFiles(SpoolPath, "*.seg").Single();
        byte[] data = File.ReadAllBytes(segment);
        File.WriteAllBytes(segment, [.. data[..^3], .. new byte[512]]); // a torn last record, then zeroes
        var logger = new FakeLogger<ImmuneService>();
        var stream = new InMemoryEventStream();
        using var meters = new TestMeterFactory();
        using var damaged = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(meters, "Immune", "immune.spool.damaged");

        await using var second = new ImmuneService(stream, Options(), logger, null, meters);
        await second.Flushed();

        stream.Envelopes.Select(e => e.Payload.Message).ShouldBe(["kept"]);
        damaged.GetMeasurementSnapshot().Sum(m => m.Value).ShouldBe(1); // the damage is counted in the meter too
        logger.WithName("SpoolDamaged").ShouldHaveSingleItem().Message.ShouldContain(segment + ".damaged");
        File.Exists(segment + ".damaged").ShouldBeTrue();
        second.GetDeliveryStats().Replayed.ShouldBe(1);
    }

    [Fact]
    public async Task SpoolSyncInterval_OnTheServicesClock_RecordsWhatWasSettled()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var service = new ImmuneService(new InMemoryEventStream(), Options(o => o.SpoolSyncInterval = TimeSpan.FromSeconds(5)), timeProvider: time);
        await service.PublishAsync(Events.Info());
        await service.PublishAsync(Events.Critical());
        await service.Flushed();
        long before = SettledInProgressFile();

        time.Advance(TimeSpan.FromSeconds(5)); // the sync timer fires on the service's TimeProvider

        before.ShouldBe(0); // recorded at construction, before anything was published
        SettledInProgressFile().ShouldBe(3);
    }

    private long SettledInProgressFile() => BitConverter.ToInt64(File.ReadAllBytes(Path.Combine(SpoolPath, "progress")), 8);

    [Fact]
    public async Task Constructor_SecondServiceOnTheSameDirectory_FailsClearly()
    {
        await using var first = new ImmuneService(new InMemoryEventStream(), Options());

        var exception = Should.Throw<InvalidOperationException>(() => new ImmuneService(new InMemoryEventStream(), Options()));

        exception.Message.ShouldContain("in use by another ImmuneService");
    }

    [Fact]
    public async Task PublishAsync_SpoolFull_ShedsInfoCountedAsSpoolFullAndKeepsCritical()
    {
        await using var service = new ImmuneService(Hanging(), Options(o => { o.SpoolCapacityBytes = 1 << 20; o.ShutdownTimeout = TimeSpan.Zero; }));
        string big = new('x', 4000);
        for (int i = 0; i < 400 && service.GetDeliveryStats().DroppedSpoolFull == 0; i++)
        {
            await service.PublishAsync(Events.Info(big));
        }

        long shed = service.GetDeliveryStats().DroppedSpoolFull;
        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(Events.Critical(big));
        }

        shed.ShouldBe(1);
        service.GetDeliveryStats().DroppedSpoolFull.ShouldBe(shed);
        service.GetDeliveryStats().ShouldBeBalanced();
    }

    [Fact]
    public async Task PublishAsync_WhileTheSpoolIsStalled_SummariesAndOtherPublishersDoNotWaitButNoPublishReturnsUnwritten()
    {
        var stream = new InMemoryEventStream();
        await using var service = new ImmuneService(stream, Options());
        object turn = service.Parts.SpoolWriteTurn.ShouldNotBeNull();
        using var release = new ManualResetEventSlim();
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() => { lock (turn) { stalled.SetResult(); release.Wait(); } }) { IsBackground = true }.Start(); // the disk stalls: nothing can be written
        await stalled.Task.WaitAsync(Events.HangGuard);
        Task<long> first, second;
        try
        {
            first = Task.Run(() => service.PublishAsync(Events.Warning("first")).AsTask());
            second = Task.Run(() => service.PublishAsync(Events.Critical("second")).AsTask());

            // Both are recorded and summaries answer meanwhile: neither publisher holds the service's lock while it waits.
            bool recorded = await Task.Run(() => SpinWait.SpinUntil(() => service.GetHealthSummary(TimeSpan.FromHours(1)).ActiveIssues == 2, Events.HangGuard))
                .WaitAsync(Events.HangGuard + TimeSpan.FromSeconds(5)); // throws TimeoutException when a summary waits for the disk
            recorded.ShouldBeTrue("both publishes are recorded");
            service.GetDeliveryStats().Pending.ShouldBe(3);
            (first.IsCompleted, second.IsCompleted).ShouldBe((false, false)); // their envelopes are not written yet
        }
        finally
        {
            release.Set();
        }

        await Task.WhenAll(first, second).WaitAsync(Events.HangGuard);
        await service.Flushed();
        stream.Envelopes.Select(e => e.Payload.Message).Order().ShouldBe(["first", "second", "second"]);
        service.GetDeliveryStats().ShouldBeBalanced();
    }

    [Fact]
    public async Task PublishAsync_SyncIntervalZero_CompletesOnlyOnceItsEnvelopesAreOnTheDisk_ConcurrentPublishersShareFsyncsWithoutAThreadEach()
    {
        await using var service = new ImmuneService(new InMemoryEventStream(100_000), Options(o => o.SpoolSyncInterval = TimeSpan.Zero));
        for (int i = 0; i < 20; i++)
        {
            await service.PublishAsync(i % 5 == 0 ? Events.Critical() : Events.Info());
            service.Parts.SpoolDurability.DurableThrough.ShouldBeGreaterThanOrEqualTo(service.GetDeliveryStats().Queued, $"publish {i}"); // everything queued so far is forced
        }

        // Sixty-four publishes arrive while an fsync is under way. Each call returns at once, with a task not yet complete:
        // no thread waits for the disk. The next fsync covers them all.
        long queued = service.GetDeliveryStats().Queued;
        Task<long>[] publishes;
        long forcedBefore;
        using (service.Parts.HoldSpoolForcing())
        {
            forcedBefore = service.Parts.SpoolDurability.Forced;
            publishes = await OnOwnThread(() => Enumerable.Range(0, 64).Select(_ => service.PublishAsync(Events.Info()).AsTask()).ToArray())
                .WaitAsync(Events.HangGuard); // a publish that blocked its thread for the disk would hold this one until the guard
            publishes.ShouldAllBe(p => !p.IsCompleted); // written, not yet on the disk: none complete
            service.Parts.SpoolDurability.WrittenThrough.ShouldBeGreaterThanOrEqualTo(queued + 64);
        }

        await Task.WhenAll(publishes).WaitAsync(Events.HangGuard);
        service.Parts.SpoolDurability.DurableThrough.ShouldBeGreaterThanOrEqualTo(service.GetDeliveryStats().Queued);
        (service.Parts.SpoolDurability.Forced - forcedBefore).ShouldBeLessThanOrEqualTo(2); // group commit: one fsync (two with a sync tick between) for 64 publishes
    }

    /// <summary>Runs a call on a thread of its own, not the pool's: were it to block, it would block only that thread.</summary>
    private static Task<T> OnOwnThread<T>(Func<T> call)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                done.SetResult(call());
            }
            catch (Exception exception)
            {
                done.SetException(exception);
            }
        }) { IsBackground = true }.Start();
        return done.Task;
    }

    [Fact]
    public async Task PublishAsync_FourPublishersIntoASmallQueue_EverythingSpooledAndDeliveredInRecordOrder()
    {
        var stream = new InMemoryEventStream(100_000);
        await using var service = new ImmuneService(stream, Options(o => { o.QueueCapacity = 50; o.MaxBatchSize = 16; }));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                await service.PublishAsync(i % 100 == 0 ? Events.Critical($"{p}/{i}") : Events.Info($"{p}/{i}"));
            }
        }))).WaitAsync(Events.HangGuard);
        await service.Flushed();

        long[] published = [.. stream.Envelopes.Where(e => e.Type == ImmuneEventTypes.EventPublished).Select(e => e.Payload.EventId)];
        published.ShouldBe(Enumerable.Range(1, 8_000).Select(i => (long)i)); // record order, none lost, none twice
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.Dropped).ShouldBe((8_080L, 0L));
        stats.ShouldBeBalanced();
    }

    [Fact]
    public async Task PublishAsync_SpoolDirectoryRemoved_KeepsDeliveringFromMemoryAndLogsOnce()
    {
        var logger = new FakeLogger<ImmuneService>();
        var stream = new InMemoryEventStream(100_000);
        await using var service = new ImmuneService(stream, Options(o => o.SpoolCapacityBytes = 1 << 20), logger);
        Directory.Delete(SpoolPath, recursive: true); // the disk is gone from under it; the next segment cannot be made
        string big = new('x', 4000);

        for (int i = 0; i < 200; i++)
        {
            await service.PublishAsync(Events.Info(big)); // never throws
        }

        await service.Flushed();
        service.GetDeliveryStats().Delivered.ShouldBe(200);
        logger.WithName("SpoolUnavailable").Count.ShouldBe(1);
    }

    private sealed class DelegateStream(Func<EventEnvelope, ValueTask> publish) : IEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => publish(envelope);
    }

    private sealed class DelegateBatchStream(Func<ReadOnlyMemory<EventEnvelope>, ValueTask> publish) : IBatchEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("A batch stream must be handed batches.");

        public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default) => publish(envelopes);
    }
}
