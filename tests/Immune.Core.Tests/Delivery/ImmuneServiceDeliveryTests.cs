using System.Collections.Concurrent;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Delivery;

public sealed class ImmuneServiceDeliveryTests
{
    private readonly ObservableTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

    private ImmuneService CreateService(IEventStream stream, Action<ImmuneOptions>? configure = null, TimeProvider? time = null, FakeLogger<ImmuneService>? logger = null)
    {
        // No drain at disposal unless a test asks for one: a test that fails with its stream still gated must not hang.
        var options = new ImmuneOptions { RetryDelay = TimeSpan.Zero, ShutdownTimeout = TimeSpan.Zero };
        configure?.Invoke(options);
        return new ImmuneService(stream, options, logger, time ?? _time);
    }

    [Fact]
    public async Task PublishAsync_StreamHangs_ReturnsWithoutWaiting_AndDisposeCountsEverything()
    {
        ScriptedStream stream = ScriptedStream.Hung();
        ImmuneService service = CreateService(stream, o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200), time: TimeProvider.System);

        for (int i = 0; i < 100; i++)
        {
            ValueTask<long> publish = service.PublishAsync(Events.Info());
            publish.IsCompletedSuccessfully.ShouldBeTrue(); // recorded and queued before returning: no wait on the stream
            (await publish).ShouldBe(i + 1);
        }

        await stream.WhenCalled(1);
        await service.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.Queued.ShouldBe(100);
        (stats.Failed + stats.Dropped).ShouldBe(100);
        stats.DroppedShutdown.ShouldBe(100);
        stats.Pending.ShouldBe(0);
        stats.ShouldBeBalanced();
    }

    [Fact]
    public async Task PublishAsync_StreamThrowsSynchronously_ReturnsIdAndCountsFailureAfterEveryAttempt()
    {
        var stream = new ScriptedStream(_ => throw new InvalidOperationException("bus down"));
        await using ImmuneService service = CreateService(stream, o => o.DeliveryAttempts = 3);

        long id = await service.PublishAsync(Events.Critical());
        await service.Flushed();

        id.ShouldBe(1);
        stream.CallCount.ShouldBe(6); // two envelopes, three attempts each
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.Failed.ShouldBe(2);
        stats.FailedStreamError.ShouldBe(2);
        stats.ShouldBeBalanced();
    }

    public static TheoryData<string> Faults() => ["throw", "throw-oce", "faulted", "cancelled", "async-throw", "async-oce", "timeout-exception", "aggregate"];

    private static ValueTask Fault(string kind, ScriptedStream.Call call) => kind switch
    {
        "throw" => throw new InvalidOperationException("sync"),
        "throw-oce" => throw new OperationCanceledException("the stream's own"),
        "faulted" => ValueTask.FromException(new IOException("faulted")),
        "cancelled" => ValueTask.FromCanceled(new CancellationToken(canceled: true)),
        "async-throw" => AsyncThrow(new HttpRequestException("async")),
        "async-oce" => AsyncThrow(new TaskCanceledException("async own cancel")),
        "timeout-exception" => throw new TimeoutException("transport timeout"),
        _ => throw new AggregateException(new InvalidOperationException("inner")),
    };

    private static async ValueTask AsyncThrow(Exception exception)
    {
        await Task.Yield();
        throw exception;
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task DeliveryLoop_StreamFaultsInAnyWay_CountsFailureAndKeepsDelivering(string kind)
    {
        var stream = new ScriptedStream(call => call.Envelope.Payload.Message == "poison" ? Fault(kind, call) : ValueTask.CompletedTask);
        await using ImmuneService service = CreateService(stream, o => o.DeliveryAttempts = 2);

        await service.PublishAsync(Events.Info("poison"));
        await service.PublishAsync(Events.Info("healthy"));
        await service.Flushed();

        stream.Accepted.ShouldHaveSingleItem().Payload.Message.ShouldBe("healthy");
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.Delivered.ShouldBe(1);
        stats.Failed.ShouldBe(1);
        stats.Dropped.ShouldBe(0); // a stream's own cancellation is a failure, never a shutdown
        (kind == "timeout-exception" ? stats.FailedTimeout : stats.FailedStreamError).ShouldBe(1);
        stats.ShouldBeBalanced();
    }

    [Fact]
    public async Task DeliveryLoop_StreamCancelsOnItsOwnThreeTimes_LaterEnvelopesAreDelivered()
    {
        int cancellations = 0;
        var stream = new ScriptedStream(_ => Interlocked.Increment(ref cancellations) <= 3
            ? ValueTask.FromCanceled(new CancellationToken(canceled: true))
            : ValueTask.CompletedTask);
        await using ImmuneService service = CreateService(stream, o => o.DeliveryAttempts = 1);

        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(Events.Info($"e{i}"));
        }

        await service.Flushed();

        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["e3", "e4"]);
        service.GetDeliveryStats().FailedStreamError.ShouldBe(3);
    }

    [Fact]
    public async Task DeliveryLoop_StreamIgnoresItsToken_AttemptTimesOutAndTokenIsCancelled()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate, ignoreToken: true);
        await using ImmuneService service = CreateService(stream, o => { o.DeliveryAttempts = 1; o.PublishTimeout = TimeSpan.FromSeconds(2); });

        await service.PublishAsync(Events.Info());
        ScriptedStream.Call call = await stream.WhenCalled(1);
        Task flushed = service.FlushAsync();
        (await _time.NextTimer()).ShouldBe(TimeSpan.FromSeconds(2)); // the service's own timeout, started
        _time.Advance(TimeSpan.FromSeconds(1.9));
        flushed.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await flushed.WaitAsync(Events.HangGuard);

        service.GetDeliveryStats().FailedTimeout.ShouldBe(1);
        call.Token.IsCancellationRequested.ShouldBeTrue();
    }

    [Fact]
    public async Task DeliveryLoop_Retries_BackOffOnTheTimeProviderAndKeepOrder()
    {
        int calls = 0;
        var stream = new ScriptedStream(call => call.Envelope.Payload.Message == "flaky" && Interlocked.Increment(ref calls) <= 2
            ? ValueTask.FromException(new IOException("transient"))
            : ValueTask.CompletedTask);
        await using ImmuneService service = CreateService(stream, o => { o.RetryDelay = TimeSpan.FromSeconds(10); o.MaxRetryDelay = TimeSpan.FromMinutes(1); o.PublishTimeout = TimeSpan.FromHours(1); });

        await service.PublishAsync(Events.Info("flaky"));
        await service.PublishAsync(Events.Info("next"));
        TimeSpan first = await _time.NextBackoff(); // not the watchdog of each call
        first.ShouldBeInRange(TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12)); // 10 s ± 20%
        stream.CallCount.ShouldBe(1);
        _time.Advance(first - TimeSpan.FromTicks(1));
        stream.CallCount.ShouldBe(1); // "next" waits behind the retrying envelope
        _time.Advance(TimeSpan.FromTicks(1));
        await stream.WhenCalled(2);
        TimeSpan second = await _time.NextBackoff();
        second.ShouldBeInRange(TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(24)); // doubled
        _time.Advance(second);
        await service.Flushed();

        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["flaky", "next"]);
        stream.CallCount.ShouldBe(4);
        service.GetDeliveryStats().Delivered.ShouldBe(2);
    }

    [Fact]
    public async Task PublishAsync_QueueFull_ShedsInfoBeforeCritical()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using ImmuneService service = CreateService(stream, o => o.QueueCapacity = 16);

        await service.PublishAsync(Events.Info("in flight"));
        await stream.WhenCalled(1); // the loop holds it; the queue is empty
        for (int i = 0; i < 200; i++)
        {
            await service.PublishAsync(Events.Info($"info {i}"));
        }

        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(Events.Critical($"critical {i}"));
        }

        ImmuneDeliveryStats blocked = service.GetDeliveryStats();
        blocked.Pending.ShouldBe(17);
        blocked.DroppedQueueFull.ShouldBe(194); // 200 + 10 - 16
        blocked.ShouldBeBalanced();

        gate.SetResult();
        await service.Flushed();

        IReadOnlyList<EventEnvelope> delivered = stream.Accepted;
        delivered.Count(e => e.Payload.Severity == ImmuneSeverity.Critical).ShouldBe(10);
        delivered.Select(e => e.Payload.Message).ShouldBe(
            new[] { "in flight" }
                .Concat(Enumerable.Range(194, 6).Select(i => $"info {i}"))
                .Concat(Enumerable.Range(0, 5).SelectMany(i => new[] { $"critical {i}", $"critical {i}" })));
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.Delivered.ShouldBe(17);
        stats.Dropped.ShouldBe(194);
        stats.ShouldBeBalanced();
    }

    [Fact]
    public async Task PublishAsync_QueueFullOfCritical_ShedsNewInfoThenOldestCritical()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using ImmuneService service = CreateService(stream, o => o.QueueCapacity = 2);
        await service.PublishAsync(Events.Info("in flight"));
        await stream.WhenCalled(1);

        await service.PublishAsync(Events.Critical("c1")); // fills the queue with CRITICAL envelopes
        await service.PublishAsync(Events.Info("info")); // only CRITICAL waits: the newcomer is shed
        await service.PublishAsync(Events.Critical("c2")); // nothing else is left: the oldest CRITICAL go
        gate.SetResult();
        await service.Flushed();

        stream.Accepted.Select(e => e.Payload.Message).ShouldBe(["in flight", "c2", "c2"]);
        service.GetDeliveryStats().DroppedQueueFull.ShouldBe(3);
        service.GetRecentEvents().Count.ShouldBe(4); // shedding never touches the store
    }

    [Fact]
    public async Task FlushAsync_WaitsUntilSettledNotMerelyDequeued()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using ImmuneService service = CreateService(stream);

        await service.PublishAsync(Events.Info());
        await stream.WhenCalled(1);
        Task flushed = service.FlushAsync();
        await service.PublishAsync(Events.Info()); // queued after the flush began: not waited for

        flushed.IsCompleted.ShouldBeFalse();
        service.GetDeliveryStats().Pending.ShouldBe(2);
        gate.SetResult();
        await flushed.WaitAsync(Events.HangGuard);

        // Settled, not merely dequeued: when the flush completes, the first envelope is counted delivered and is in the stream.
        service.GetDeliveryStats().Delivered.ShouldBeGreaterThanOrEqualTo(1);
        stream.Accepted.Select(e => e.Payload.EventId).ShouldContain(1);
    }

    [Fact]
    public async Task GetDeliveryStats_WhileARunIsInFlight_StaysBalancedAndCountsTheRunWhenItEnds()
    {
        var first = new TaskCompletionSource();
        var blocker = new TaskCompletionSource();
        var stream = new ScriptedStream(call => call.Envelope.Payload.Message switch
        {
            "first" => new ValueTask(first.Task),
            "block" => new ValueTask(blocker.Task),
            _ => ValueTask.CompletedTask,
        });
        await using ImmuneService service = CreateService(stream);
        await service.PublishAsync(Events.Info("first"));
        await stream.WhenCalled(1);
        foreach (string message in new[] { "a", "b", "block", "c" })
        {
            await service.PublishAsync(Events.Info(message)); // queued behind "first": the loop takes them together
        }

        first.SetResult();
        await stream.WhenCalled(4);

        // "a" and "b" went through within the run that now waits on "block": it is counted when it ends.
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 5, Delivered = 1, Pending = 4 });
        blocker.SetResult();
        await service.Flushed();
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 5, Delivered = 5 });
    }

    [Fact]
    public async Task FlushAsync_Cancelled_ThrowsButDeliveryGoesOn()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using ImmuneService service = CreateService(stream);
        await service.PublishAsync(Events.Info());
        using var cancel = new CancellationTokenSource();

        Task flushed = service.FlushAsync(cancel.Token);
        await cancel.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(flushed);
        gate.SetResult();
        await service.Flushed();
        service.GetDeliveryStats().Delivered.ShouldBe(1);
    }

    [Fact]
    public async Task DisposeAsync_StreamRecovers_DrainsEverythingQueued()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        ImmuneService service = CreateService(stream, o => o.ShutdownTimeout = TimeSpan.FromMinutes(1));
        for (int i = 0; i < 10; i++)
        {
            await service.PublishAsync(Events.Info());
        }

        ValueTask disposing = service.DisposeAsync();
        await Should.ThrowAsync<ObjectDisposedException>(async () => await service.PublishAsync(Events.Info())); // intake stopped at once
        gate.SetResult();
        await disposing.AsTask().WaitAsync(Events.HangGuard);

        service.GetDeliveryStats().Delivered.ShouldBe(10);
        stream.Accepted.Count.ShouldBe(10);
    }

    [Fact]
    public async Task DisposeAsync_StreamHangs_ReturnsAfterShutdownTimeoutAndCountsTheRestAsDropped()
    {
        var logger = new FakeLogger<ImmuneService>();
        ScriptedStream stream = ScriptedStream.Hung();
        ImmuneService service = CreateService(stream, o => o.ShutdownTimeout = TimeSpan.FromSeconds(3), logger: logger);
        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(Events.Info());
        }

        ScriptedStream.Call call = await stream.WhenCalled(1);
        Task disposing = service.DisposeAsync().AsTask();
        disposing.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(3));
        await disposing.WaitAsync(Events.HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.DroppedShutdown.ShouldBe(5);
        stats.ShouldBeBalanced();
        call.Token.IsCancellationRequested.ShouldBeTrue();
        logger.WithName("DeliveryStopped").ShouldHaveSingleItem().Message.ShouldContain("5 dropped");
        logger.WithName("EnvelopeDropped").ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Dispose_Synchronous_DrainsAndIsIdempotent()
    {
        var stream = new InMemoryEventStream();
        var service = new ImmuneService(stream);
        await service.PublishAsync(Events.Critical());

        service.Dispose();
        service.Dispose();

        stream.Envelopes.Count.ShouldBe(2);
    }

    [Fact]
    public async Task PublishAsync_Inline_WaitsForTheStreamAndNeverThrowsForIt()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using ImmuneService service = CreateService(stream, o => o.Delivery = ImmuneDelivery.Inline);

        ValueTask<long> publishing = service.PublishAsync(Events.Critical());
        await stream.WhenCalled(1);
        publishing.IsCompleted.ShouldBeFalse();
        gate.SetResult();

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        stream.Accepted.Count.ShouldBe(2); // both envelopes settled before it returned
    }

    [Fact]
    public async Task PublishAsync_InlineWithHungStream_ReturnsAfterThePublishTimeoutWithoutThrowing()
    {
        ScriptedStream stream = ScriptedStream.Hung();
        await using ImmuneService service = CreateService(stream, o => { o.Delivery = ImmuneDelivery.Inline; o.DeliveryAttempts = 1; o.PublishTimeout = TimeSpan.FromSeconds(2); });

        ValueTask<long> publishing = service.PublishAsync(Events.Info());
        (await _time.NextTimer()).ShouldBe(TimeSpan.FromSeconds(2));
        publishing.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(2));

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        service.GetDeliveryStats().FailedTimeout.ShouldBe(1);
    }

    [Fact]
    public async Task PublishAsync_InlineWithFailingStream_ReturnsIdAndCountsFailure()
    {
        var stream = new ScriptedStream(_ => throw new InvalidOperationException("down"));
        await using ImmuneService service = CreateService(stream, o => { o.Delivery = ImmuneDelivery.Inline; o.DeliveryAttempts = 3; });

        long id = await service.PublishAsync(Events.Info()).AsTask().WaitAsync(Events.HangGuard);

        id.ShouldBe(1);
        service.GetDeliveryStats().Failed.ShouldBe(1);
    }

    [Fact]
    public async Task PublishAsync_InlineCallerCancels_StopsWaitingAndReturnsTheId()
    {
        ScriptedStream stream = ScriptedStream.Hung();
        await using ImmuneService service = CreateService(stream, o => o.Delivery = ImmuneDelivery.Inline);
        using var cancel = new CancellationTokenSource();

        ValueTask<long> publishing = service.PublishAsync(Events.Info(), cancel.Token);
        await stream.WhenCalled(1);
        await cancel.CancelAsync();

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        service.GetRecentEvents().Count.ShouldBe(1);
    }

    [Fact]
    public async Task DeliveryLoop_FailuresAreLoggedRateLimitedWithEnvelopeIdAndType()
    {
        var logger = new FakeLogger<ImmuneService>();
        var stream = new ScriptedStream(_ => throw new InvalidOperationException("down"));
        await using ImmuneService service = CreateService(stream, o => { o.DeliveryAttempts = 1; o.DeliveryLogInterval = TimeSpan.FromMinutes(1); }, logger: logger);

        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(Events.Info());
        }

        await service.Flushed();
        _time.Advance(TimeSpan.FromMinutes(1));
        await service.PublishAsync(Events.Info());
        await service.Flushed();

        IReadOnlyList<FakeLogRecord> failures = logger.WithName("EnvelopeFailed");
        failures.Count.ShouldBe(2);
        failures[0].Message.ShouldMatch("^Envelope evt_immune_\\d+_[0-9a-f]{16} \\(immune.event_published, sequence 1\\) of immune event 1 failed after 1 attempt\\(s\\): stream_error. 0 other");
        failures[0].Exception.ShouldBeOfType<InvalidOperationException>();
        failures[1].Message.ShouldContain("of immune event 6");
        failures[1].Message.ShouldContain("4 other failure(s)");
    }

    [Fact]
    public async Task PublishAsync_QueueFull_DropsAreLogged()
    {
        var logger = new FakeLogger<ImmuneService>();
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using ImmuneService service = CreateService(stream, o => o.QueueCapacity = 1, logger: logger);
        await service.PublishAsync(Events.Info());
        await stream.WhenCalled(1);

        await service.PublishAsync(Events.Info());
        await service.PublishAsync(Events.Warning());
        gate.SetResult();

        logger.WithName("EnvelopeDropped").ShouldHaveSingleItem().Message.ShouldContain("of immune event 2 was dropped: queue_full");
    }

    [Fact]
    public async Task PublishAsync_EightConcurrentPublishers_EveryEnvelopeDeliveredOnceInRecordOrder()
    {
        const int Threads = 8, PerThread = 25_000, Total = Threads * PerThread;
        var stream = new InMemoryEventStream(Total);
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = Total, RetentionCapacity = Total });
        using var stop = new CancellationTokenSource();
        Task<int> auditor = Task.Run(() =>
        {
            int reads = 0;
            while (!stop.IsCancellationRequested)
            {
                service.GetDeliveryStats().ShouldBeBalanced();
                reads++;
            }

            return reads;
        });

        long[][] ids = await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            var mine = new long[PerThread];
            for (int i = 0; i < PerThread; i++)
            {
                mine[i] = await service.PublishAsync(Events.Info($"{t}"));
            }

            return mine;
        })));
        await service.FlushAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await stop.CancelAsync();
        (await auditor).ShouldBeGreaterThan(0);

        ids.SelectMany(x => x).Distinct().Count().ShouldBe(Total);
        ids.ShouldAllBe(mine => mine.Zip(mine.Skip(1)).All(pair => pair.First < pair.Second));
        IReadOnlyList<EventEnvelope> delivered = stream.Envelopes;
        delivered.Count.ShouldBe(Total);
        delivered.Select(e => e.Id).Distinct().Count().ShouldBe(Total);
        delivered.Select(e => e.Payload.EventId).ShouldBe(Enumerable.Range(1, Total).Select(i => (long)i)); // record order, each once
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = Total, Delivered = Total });
    }

    [Fact]
    public async Task PublishAsync_CriticalEvents_ReachTheStreamInRecordOrderPublishedBeforeCritical()
    {
        var stream = new InMemoryEventStream();
        await using ImmuneService service = CreateService(stream);

        for (int i = 0; i < 50; i++)
        {
            await service.PublishAsync(i % 3 == 0 ? Events.Critical() : Events.Warning());
        }

        await service.Flushed();

        var expected = Enumerable.Range(0, 50).SelectMany(i => i % 3 == 0
            ? new[] { (i + 1L, ImmuneEventTypes.EventPublished), (i + 1L, ImmuneEventTypes.CriticalEvent) }
            : new[] { (i + 1L, ImmuneEventTypes.EventPublished) });
        stream.Envelopes.Select(e => (e.Payload.EventId, e.Type)).ShouldBe(expected);
    }
}
