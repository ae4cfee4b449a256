using Immune.Tests.TestDoubles;

namespace Immune.Tests.Delivery;

/// <summary>
/// The delivery promises of DESIGN.md, each proven on both paths: a plain <see cref="IEventStream"/> (one envelope per
/// call) and an <see cref="IBatchEventStream"/> (many per call). The stream's behaviour is scripted per call either way.
/// </summary>
public sealed class DeliveryPromisesOnBothPathsTests
{
    private readonly ObservableTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

    /// <summary>A stream of either kind whose every call (one envelope, or one batch) runs <paramref name="behaviour"/>.</summary>
    private static IEventStream Stream(bool batches, Func<int, ValueTask> behaviour, List<EventEnvelope>? accepted = null)
        => batches ? new BatchStream(behaviour, accepted ?? []) : new PlainStream(behaviour, accepted ?? []);

    private ImmuneService Service(IEventStream stream, Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions { RetryDelay = TimeSpan.Zero, ShutdownTimeout = TimeSpan.Zero };
        configure?.Invoke(options);
        return new ImmuneService(stream, options, null, _time);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NeverBlocks_StreamThatHangs_PublishReturnsAtOnceAndDisposeCountsEverything(bool batches)
    {
        IEventStream stream = Stream(batches, _ => new ValueTask(new TaskCompletionSource().Task));
        ImmuneService service = Service(stream);

        for (int i = 0; i < 100; i++)
        {
            ValueTask<long> publishing = service.PublishAsync(Events.Info());
            publishing.IsCompletedSuccessfully.ShouldBeTrue(); // synchronously: never waits for the stream
        }

        await service.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        (stats.Queued, stats.Dropped, stats.Pending).ShouldBe((100L, 100L, 0L));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NothingLostSilently_StreamFailingAtRandom_EveryEnvelopeEndsCountedAndTheIdentityHolds(bool batches)
    {
        var random = new Random(batches ? 11 : 12);
        var gate = new object();
        IEventStream stream = Stream(batches, _ =>
        {
            int roll;
            lock (gate) roll = random.Next(4);
            return roll switch
            {
                0 => throw new IOException("down"),
                1 => ValueTask.FromException(new OperationCanceledException("the stream's own")),
                _ => ValueTask.CompletedTask,
            };
        });
        await using ImmuneService service = Service(stream, o => { o.DeliveryAttempts = 2; o.QueueCapacity = 50; o.MaxBatchSize = 8; });

        for (int i = 0; i < 500; i++)
        {
            await service.PublishAsync(i % 7 == 0 ? Events.Critical() : Events.Info());
            service.GetDeliveryStats().ShouldBeBalanced();
        }

        await service.Flushed();
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        stats.Pending.ShouldBe(0);
        stats.Queued.ShouldBe(500 + 72);
        stats.Delivered.ShouldBeGreaterThan(0);
        stats.Failed.ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CriticalFirst_QueueFull_ShedsInfoAndWarningBeforeAnyCritical(bool batches)
    {
        var gate = new TaskCompletionSource();
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var accepted = new List<EventEnvelope>();
        IEventStream stream = Stream(batches, call =>
        {
            if (call != 1) return ValueTask.CompletedTask;
            called.TrySetResult();
            return new ValueTask(gate.Task);
        }, accepted);
        await using ImmuneService service = Service(stream, o => o.QueueCapacity = 4);

        await service.PublishAsync(Events.Info("in flight"));
        await called.Task.WaitAsync(Events.HangGuard); // the loop holds it: what follows waits in the queue
        for (int i = 0; i < 10; i++) await service.PublishAsync(Events.Info($"info {i}"));
        await service.PublishAsync(Events.Critical("c1")); // two envelopes
        await service.PublishAsync(Events.Warning("w"));
        gate.SetResult();
        await service.Flushed();

        string[] delivered;
        lock (accepted) delivered = [.. accepted.Select(e => $"{e.Payload.Message}/{e.Type}")];
        delivered.ShouldContain($"c1/{ImmuneEventTypes.EventPublished}");
        delivered.ShouldContain($"c1/{ImmuneEventTypes.CriticalEvent}");
        delivered.Length.ShouldBe(5); // the one in flight and a full queue of four: both CRITICAL envelopes kept
        service.GetDeliveryStats().DroppedQueueFull.ShouldBe(9);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ordered_EightConcurrentPublishers_ReachTheStreamInRecordOrderPublishedBeforeCritical(bool batches)
    {
        var accepted = new List<EventEnvelope>();
        IEventStream stream = Stream(batches, _ => ValueTask.CompletedTask, accepted);
        await using ImmuneService service = Service(stream, o => { o.QueueCapacity = 100_000; o.RetentionCapacity = 100_000; });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++) await service.PublishAsync(i % 10 == 0 ? Events.Critical() : Events.Info());
        })));
        await service.Flushed();

        EventEnvelope[] envelopes;
        lock (accepted) envelopes = [.. accepted];
        envelopes.Length.ShouldBe(16_000 + 1_600);
        for (int i = 1; i < envelopes.Length; i++)
        {
            (long Id, bool Critical) previous = (envelopes[i - 1].Payload.EventId, envelopes[i - 1].Type == ImmuneEventTypes.CriticalEvent);
            (long Id, bool Critical) current = (envelopes[i].Payload.EventId, envelopes[i].Type == ImmuneEventTypes.CriticalEvent);
            (current.Id > previous.Id || (current.Id == previous.Id && current.Critical && !previous.Critical)).ShouldBeTrue($"at {i}: {previous} then {current}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InlineTimeout_StreamThatHangs_InlineCallerReturnsAfterThePublishTimeout(bool batches)
    {
        IEventStream stream = Stream(batches, _ => new ValueTask(new TaskCompletionSource().Task));
        await using ImmuneService service = Service(stream, o => { o.Delivery = ImmuneDelivery.Inline; o.DeliveryAttempts = 1; o.PublishTimeout = TimeSpan.FromSeconds(3); });

        ValueTask<long> publishing = service.PublishAsync(Events.Warning());
        (await _time.NextTimer()).ShouldBe(TimeSpan.FromSeconds(3));
        publishing.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(3));

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 1, Failed = 1, FailedTimeout = 1, FailingSince = _time.GetUtcNow() });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CleanShutdown_StreamRecovers_DisposeDrainsEverythingQueued(bool batches)
    {
        var gate = new TaskCompletionSource();
        var accepted = new List<EventEnvelope>();
        IEventStream stream = Stream(batches, call => call == 1 ? new ValueTask(gate.Task) : ValueTask.CompletedTask, accepted);
        ImmuneService service = Service(stream, o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        for (int i = 0; i < 20; i++) await service.PublishAsync(Events.Info());

        ValueTask disposing = service.DisposeAsync();
        await Should.ThrowAsync<ObjectDisposedException>(async () => await service.PublishAsync(Events.Info()));
        gate.SetResult();
        await disposing.AsTask().WaitAsync(Events.HangGuard);

        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 20, Delivered = 20 });
        lock (accepted) accepted.Count.ShouldBe(20);
    }

    private sealed class PlainStream(Func<int, ValueTask> behaviour, List<EventEnvelope> accepted) : IEventStream
    {
        private int _calls;

        public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
        {
            await behaviour(Interlocked.Increment(ref _calls));
            lock (accepted) accepted.Add(envelope);
        }
    }

    private sealed class BatchStream(Func<int, ValueTask> behaviour, List<EventEnvelope> accepted) : IBatchEventStream
    {
        private int _calls;

        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => throw new InvalidOperationException("batches only");

        public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
        {
            EventEnvelope[] copy = envelopes.ToArray();
            await behaviour(Interlocked.Increment(ref _calls));
            lock (accepted) accepted.AddRange(copy);
        }
    }
}
