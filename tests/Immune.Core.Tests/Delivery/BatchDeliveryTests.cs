using Immune.Tests.TestDoubles;

namespace Immune.Tests.Delivery;

/// <summary>The batch path: what a stream implementing <see cref="IBatchEventStream"/> is handed, and how its failures count.</summary>
public sealed class BatchDeliveryTests
{
    private readonly ObservableTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

    private ImmuneService CreateService(IEventStream stream, Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions { RetryDelay = TimeSpan.Zero, ShutdownTimeout = TimeSpan.Zero, MaxBatchSize = 4 };
        configure?.Invoke(options);
        return new ImmuneService(stream, options, null, _time);
    }

    [Fact]
    public async Task PublishAsync_BatchStream_GetsWhatIsQueuedInRecordOrderUpToMaxBatchSizeWithoutWaitingToFill()
    {
        var gate = new TaskCompletionSource();
        var stream = new ScriptedBatchStream((number, _, _) => number == 1 ? new ValueTask(gate.Task) : ValueTask.CompletedTask);
        await using ImmuneService service = CreateService(stream);

        await service.PublishAsync(Events.Info("e1"));
        await stream.WhenCalled(1); // one envelope queued: one call of one, no waiting for more
        for (int i = 2; i <= 8; i++)
        {
            await service.PublishAsync(Events.Info($"e{i}"));
        }

        await service.PublishAsync(Events.Critical("e9")); // two envelopes
        gate.SetResult();
        await service.Flushed();

        stream.Calls.Select(c => c.Length).ShouldBe([1, 4, 4, 1]);
        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e9"]);
        stream.Accepted[^1].Type.ShouldBe(ImmuneEventTypes.CriticalEvent);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Queued, stats.Delivered, stats.Pending).ShouldBe((10L, 10L, 0L)); // envelopes, not calls
    }

    [Fact]
    public async Task DeliveryLoop_BatchCallFails_RetriesTheWholeBatchWithTheSameEnvelopeIds()
    {
        var stream = new ScriptedBatchStream((number, _, _) => number == 1 ? throw new IOException("broker down") : ValueTask.CompletedTask);
        await using ImmuneService service = CreateService(stream, o => o.DeliveryAttempts = 2);
        var gate = new TaskCompletionSource();

        await service.PublishAsync(Events.Info("a"));
        await service.PublishAsync(Events.Warning("b"));
        await service.Flushed();

        stream.Calls.Count.ShouldBeGreaterThanOrEqualTo(2);
        string[] firstIds = stream.Calls[0].Select(e => e.Id).ToArray();
        stream.Calls[1].Select(e => e.Id).Take(firstIds.Length).ShouldBe(firstIds); // the retry carries the same ids
        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["a", "b"]);
        service.GetDeliveryStats().Delivered.ShouldBe(2);
    }

    [Fact]
    public async Task DeliveryLoop_BatchFailsEveryAttempt_CountsEveryEnvelopeOfItAsFailed()
    {
        var gate = new TaskCompletionSource();
        var stream = new ScriptedBatchStream((number, _, _) => number == 1 ? new ValueTask(gate.Task) : throw new IOException("broker down"));
        await using ImmuneService service = CreateService(stream, o => o.DeliveryAttempts = 3);

        await service.PublishAsync(Events.Info("holds the loop"));
        await stream.WhenCalled(1);
        await service.PublishAsync(Events.Info("x"));
        await service.PublishAsync(Events.Critical("y"));
        gate.SetResult();
        await service.Flushed();

        stream.Calls.Skip(1).Select(c => c.Length).ShouldBe([3, 3, 3]); // one batch, three attempts
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.FailedStreamError, stats.Pending).ShouldBe((1L, 3L, 0L));
    }

    [Fact]
    public async Task DeliveryLoop_BatchCallHangs_PublishTimeoutBoundsTheCallAndCancelsItsToken()
    {
        var called = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new ScriptedBatchStream((_, _, cancellationToken) =>
        {
            called.TrySetResult(cancellationToken); // the token the call was given, seen before the test moves the clock
            return new ValueTask(new TaskCompletionSource().Task); // ignores its token
        });
        await using ImmuneService service = CreateService(stream, o => { o.DeliveryAttempts = 1; o.PublishTimeout = TimeSpan.FromSeconds(3); });

        await service.PublishAsync(Events.Critical());
        CancellationToken token = await called.Task.WaitAsync(Events.HangGuard);
        Task flushed = service.FlushAsync();
        _time.Advance(TimeSpan.FromSeconds(3));
        await flushed.WaitAsync(Events.HangGuard);

        service.GetDeliveryStats().FailedTimeout.ShouldBe(2);
        token.IsCancellationRequested.ShouldBeTrue();
    }

    [Fact]
    public async Task DeliveryLoop_BatchCallTimedOut_ItsMemoryStaysValidForTheLateCallWhileLaterBatchesGoOn()
    {
        ReadOnlyMemory<EventEnvelope> held = default;
        var stream = new HeldBatchStream(first => held = first);
        await using ImmuneService service = CreateService(stream, o => { o.DeliveryAttempts = 1; o.PublishTimeout = TimeSpan.FromSeconds(3); });
        for (int i = 1; i <= 4; i++)
        {
            await service.PublishAsync(Events.Info($"held {i}"));
        }

        await stream.FirstCall.WaitAsync(Events.HangGuard);
        string[] ids = [.. held.ToArray().Select(e => e.Id)];
        Task flushed = service.FlushAsync();
        _time.Advance(TimeSpan.FromSeconds(3)); // the call times out; the stream still holds it
        await flushed.WaitAsync(Events.HangGuard);
        for (int i = 1; i <= 12; i++)
        {
            await service.PublishAsync(Events.Info($"later {i}")); // three more batches of four
        }

        await service.Flushed();

        // The late call reads its batch as it was handed over: nothing cleared, nothing of later batches.
        held.ToArray().Select(e => e?.Id).ShouldBe(ids);
        stream.Accepted.Count.ShouldBe(16 - ids.Length); // the first batch held whatever was queued when it was taken (1 to 4); the rest went on
    }

    /// <summary>A batch stream whose first call never completes and keeps its memory; later calls succeed.</summary>
    private sealed class HeldBatchStream(Action<ReadOnlyMemory<EventEnvelope>> hold) : IBatchEventStream
    {
        private readonly TaskCompletionSource _firstCall = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<EventEnvelope> _accepted = [];

        public Task FirstCall => _firstCall.Task;

        public IReadOnlyList<EventEnvelope> Accepted
        {
            get { lock (_accepted) return [.. _accepted]; }
        }

        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("A batch stream must be handed batches.");

        public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
        {
            if (!_firstCall.Task.IsCompleted)
            {
                hold(envelopes);
                _firstCall.SetResult();
                return new ValueTask(new TaskCompletionSource().Task);
            }

            lock (_accepted) _accepted.AddRange(envelopes.ToArray());
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task InMemoryEventStream_TakesBatches_AndKeepsThemInOrder()
    {
        var stream = new InMemoryEventStream(capacity: 3);
        await using ImmuneService service = CreateService(stream);

        for (int i = 1; i <= 5; i++)
        {
            await service.PublishAsync(Events.Info($"e{i}"));
        }

        await service.Flushed();

        stream.Envelopes.Select(e => e.Payload.Message).ShouldBe(["e3", "e4", "e5"]);
        stream.ReceivedCount.ShouldBe(5);
        Should.Throw<ArgumentException>(() => stream.PublishBatchAsync(new EventEnvelope[] { null! }));
        stream.ReceivedCount.ShouldBe(5);
    }
}
