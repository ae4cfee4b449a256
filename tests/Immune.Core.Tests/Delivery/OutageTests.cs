using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Delivery;

/// <summary>
/// Hold and forward: while the stream is down, the head is retried with a capped backoff and everything behind it waits
/// in order; each envelope fails exactly once, when its <see cref="ImmuneOptions.DeliveryTimeout"/> runs out (or its
/// attempts do); the outage is visible in <see cref="ImmuneDeliveryStats.FailingSince"/> and in two log entries. Each
/// scenario runs on a plain stream and on a batch stream, on a fake clock.
/// </summary>
public sealed class OutageTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Watchdog = TimeSpan.FromHours(1); // the publish timeout: its timer is not a backoff

    private readonly ObservableTimeProvider _time = new(Start);
    private readonly FakeLogger<ImmuneService> _logger = new();
    private readonly List<EventEnvelope> _accepted = [];
    private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _down = true;

    /// <summary>A stream that throws while <see cref="_down"/>, and rejects a message "poison" always.</summary>
    private IEventStream Stream(bool batches) => batches
        ? new BatchStream(this)
        : new PlainStream(this);

    private ImmuneService Service(IEventStream stream, Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions { PublishTimeout = Watchdog, ShutdownTimeout = TimeSpan.Zero, DeliveryLogInterval = TimeSpan.Zero };
        configure?.Invoke(options);
        return new ImmuneService(stream, options, _logger, _time, meterFactory: null, jitter: () => 0.5);
    }

    /// <summary>Advances the clock to each backoff timer the loop starts until everything queued is settled; returns the delays seen.</summary>
    private async Task<List<TimeSpan>> AdvanceUntilSettledAsync(ImmuneService service, int maxTimers = 10_000)
    {
        Task flushed = service.FlushAsync();
        var delays = new List<TimeSpan>();
        while (delays.Count < maxTimers)
        {
            Task<TimeSpan> timer = _time.NextBackoff();
            if (await Task.WhenAny(flushed, timer) == flushed)
            {
                return delays;
            }

            delays.Add(await timer);
            _time.Advance(await timer);
        }

        throw new InvalidOperationException($"Still not settled after {maxTimers} timers.");
    }

    /// <summary>Advances through <paramref name="count"/> backoff timers.</summary>
    private async Task<List<TimeSpan>> AdvanceTimersAsync(int count)
    {
        var delays = new List<TimeSpan>();
        for (int i = 0; i < count; i++)
        {
            TimeSpan due = await _time.NextBackoff();
            delays.Add(due);
            _time.Advance(due);
        }

        return delays;
    }

    /// <summary>Brings the stream back just before the next retry: that attempt, and not one before it, succeeds.</summary>
    private async Task RecoverAsync()
    {
        TimeSpan due = await _time.NextBackoff();
        _down = false;
        _time.Advance(due);
    }

    /// <summary>Completes once the stream was first called: what is published now waits behind that call.</summary>
    private Task FirstCall() => _called.Task.WaitAsync(Events.HangGuard);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeliveryTimeout_StreamDownThroughout_HeadFailsOnceAtItsDeadlineWithItsLastReason(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => { o.DeliveryTimeout = TimeSpan.FromSeconds(10); o.RetryDelay = TimeSpan.FromSeconds(1); });
        await service.PublishAsync(Events.Info("head"));
        await FirstCall();
        await service.PublishAsync(Events.Info("behind"));

        List<TimeSpan> delays = await AdvanceUntilSettledAsync(service);

        _time.GetUtcNow().ShouldBe(Start + TimeSpan.FromSeconds(10)); // not a tick later: the last wait ends at the deadline
        delays.ShouldAllBe(d => d == TimeSpan.FromSeconds(1));
        delays.Count.ShouldBe(10);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        stats.Failed.ShouldBe(2);
        stats.Pending.ShouldBe(0);

        // The head was tried ten times; the envelope behind it waited, never tried, and ran out of time at the same instant.
        (stats.FailedStreamError, stats.FailedTimeout).ShouldBe((1L, 1L));
        _logger.WithName("EnvelopeFailed").Count.ShouldBe(2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeliveryTimeout_EnvelopesQueuedAtDifferentTimes_EachFailsExactlyAtItsOwnDeadline(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => { o.DeliveryTimeout = TimeSpan.FromSeconds(5); o.RetryDelay = TimeSpan.FromSeconds(1); });
        await service.PublishAsync(Events.Info("t0"));
        await AdvanceTimersAsync(2);
        await service.PublishAsync(Events.Info("t2"));
        await AdvanceTimersAsync(1);
        await service.PublishAsync(Events.Info("t3"));

        await AdvanceUntilSettledAsync(service);

        _time.GetUtcNow().ShouldBe(Start + TimeSpan.FromSeconds(8)); // the last one's deadline: queued at 3 s, 5 s to live
        service.GetDeliveryStats().Failed.ShouldBe(3);
        _accepted.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Backoff_StreamDown_DoublesFromRetryDelayUpToMaxRetryDelay(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => { o.RetryDelay = TimeSpan.FromMilliseconds(100); o.MaxRetryDelay = TimeSpan.FromSeconds(1); });
        await service.PublishAsync(Events.Info());

        List<TimeSpan> delays = await AdvanceTimersAsync(8);

        delays.Select(d => d.TotalMilliseconds).ShouldBe([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
        service.GetDeliveryStats().Pending.ShouldBe(1); // still held: two minutes are far off
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Outage_StreamComesBack_BacklogGoesOutInRecordOrderNothingLost(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => o.MaxBatchSize = 64);
        var ids = new List<long>();
        ids.Add(await service.PublishAsync(Events.Info("first")));
        await AdvanceTimersAsync(3);
        service.GetDeliveryStats().FailingSince.ShouldBe(Start);
        for (int i = 0; i < 1_000; i++)
        {
            ids.Add(await service.PublishAsync(i % 10 == 0 ? Events.Critical($"e{i}") : Events.Info($"e{i}")));
        }

        await AdvanceTimersAsync(20); // 20 more seconds of outage
        _down = false;
        await AdvanceUntilSettledAsync(service);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        (stats.Delivered, stats.Failed, stats.Dropped, stats.FailingSince).ShouldBe((1_101L, 0L, 0L, (DateTimeOffset?)null));
        _accepted.Where(e => e.Type == ImmuneEventTypes.EventPublished).Select(e => e.Payload.EventId).ShouldBe(ids);
        _accepted.Select(e => e.Payload.EventId).ShouldBeInOrder(SortDirection.Ascending);
        _accepted.Select(e => e.Id).Distinct().Count().ShouldBe(1_101);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FailingSince_SetAtTheFirstFailedAttemptClearedAtRecovery_LoggedOnceEach(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches));
        service.GetDeliveryStats().FailingSince.ShouldBeNull();
        await service.PublishAsync(Events.Warning());
        await FirstCall();
        await service.PublishAsync(Events.Warning());

        await AdvanceTimersAsync(5);
        service.GetDeliveryStats().FailingSince.ShouldBe(Start);
        await RecoverAsync();
        await AdvanceUntilSettledAsync(service);

        service.GetDeliveryStats().FailingSince.ShouldBeNull();
        _logger.WithName("StreamFailing").ShouldHaveSingleItem().Level.ShouldBe(Microsoft.Extensions.Logging.LogLevel.Warning);
        FakeLogRecord recovered = _logger.WithName("StreamRecovered").ShouldHaveSingleItem();
        recovered.GetStructuredStateValue("Duration").ShouldBe(TimeSpan.FromMilliseconds(100 + 200 + 400 + 800 + 1000 + 1000).ToString());
        recovered.GetStructuredStateValue("FailedAttempts").ShouldBe("6");
        recovered.GetStructuredStateValue("Waiting").ShouldBe("2"); // both waited: the head, retried, and the one behind it
        _logger.WithName("EnvelopeFailed").ShouldBeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QueueFullDuringOutage_InfoAndWarningShedFirst_EveryCriticalEnvelopeKeptAndDelivered(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => { o.QueueCapacity = 10; o.MaxBatchSize = 1; });
        await service.PublishAsync(Events.Info("head")); // taken by the loop: retried while the rest queue
        await AdvanceTimersAsync(1);
        for (int i = 0; i < 30; i++)
        {
            await service.PublishAsync(i % 6 == 0 ? Events.Critical($"critical {i}") : Events.Warning($"warning {i}"));
        }

        _down = false;
        await AdvanceUntilSettledAsync(service);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        stats.DroppedQueueFull.ShouldBe(25); // 35 envelopes queued behind the head, 10 kept: all CRITICAL
        _accepted.Count(e => e.Payload.Severity == ImmuneSeverity.Critical).ShouldBe(10); // 5 CRITICAL events, 2 envelopes each
        _accepted[0].Payload.Message.ShouldBe("head");
        _accepted.Select(e => e.Payload.EventId).ShouldBeInOrder(SortDirection.Ascending);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PoisonEnvelope_RejectedEveryTime_HeldNoLongerThanItsDeliveryTimeoutThenTheRestGoes(bool batches)
    {
        _down = false;
        await using ImmuneService service = Service(Stream(batches), o => { o.DeliveryTimeout = TimeSpan.FromSeconds(30); o.RetryDelay = TimeSpan.FromSeconds(1); });
        await service.PublishAsync(Events.Warning("poison"));
        await AdvanceTimersAsync(1);
        for (int i = 0; i < 3; i++)
        {
            await service.PublishAsync(Events.Warning($"good {i}"));
        }

        await AdvanceUntilSettledAsync(service);

        _time.GetUtcNow().ShouldBe(Start + TimeSpan.FromSeconds(30));
        _accepted.Select(e => e.Payload.Message).ShouldBe(["good 0", "good 1", "good 2"]);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Delivered, stats.FailedStreamError, stats.FailingSince).ShouldBe((3L, 1L, (DateTimeOffset?)null));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Inline_DuringAnOutage_CallerWaitsUntilTheStreamReturnsAndGetsItsId(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => o.Delivery = ImmuneDelivery.Inline);

        ValueTask<long> publishing = service.PublishAsync(Events.Critical());
        await AdvanceTimersAsync(4);
        publishing.IsCompleted.ShouldBeFalse(); // inline means delivered (or given up) before returning
        await RecoverAsync();

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        service.GetDeliveryStats().Delivered.ShouldBe(2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Inline_OutageOutlastsTheDeliveryTimeout_CallerGetsItsIdAndTheFailureIsCounted(bool batches)
    {
        await using ImmuneService service = Service(Stream(batches), o => { o.Delivery = ImmuneDelivery.Inline; o.DeliveryTimeout = TimeSpan.FromSeconds(3); });

        ValueTask<long> publishing = service.PublishAsync(Events.Info());
        await AdvanceUntilSettledAsync(service);

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        _time.GetUtcNow().ShouldBe(Start + TimeSpan.FromSeconds(3));
        service.GetDeliveryStats().FailedStreamError.ShouldBe(1);
    }

    [Fact]
    public async Task DeliveryTimeout_Infinite_HeldForDaysThenDelivered()
    {
        await using ImmuneService service = Service(Stream(batches: true), o => { o.DeliveryTimeout = Timeout.InfiniteTimeSpan; o.MaxRetryDelay = TimeSpan.FromMinutes(50); });
        await service.PublishAsync(Events.Critical());

        List<TimeSpan> delays = await AdvanceTimersAsync((24 * 10 * 6 / 5) + 20);
        delays.Aggregate(TimeSpan.Zero, (a, b) => a + b).ShouldBeGreaterThan(TimeSpan.FromDays(10));
        service.GetDeliveryStats().Pending.ShouldBe(2);
        _down = false;
        await AdvanceUntilSettledAsync(service);

        service.GetDeliveryStats().Delivered.ShouldBe(2);
    }

    [Fact]
    public async Task DeliveryAttempts_ExplicitWithTheDefaultTimeout_KeepsItsExactMeaning()
    {
        var calls = 0;
        var stream = new ScriptedStream(_ => { Interlocked.Increment(ref calls); throw new IOException("down"); });
        await using ImmuneService service = Service(stream, o => o.DeliveryAttempts = 4);
        await service.PublishAsync(Events.Info());

        List<TimeSpan> delays = await AdvanceUntilSettledAsync(service);

        (calls, delays.Count).ShouldBe((4, 3));
        service.GetDeliveryStats().FailedStreamError.ShouldBe(1);
    }

    [Fact]
    public async Task OldestPendingAge_GrowsDuringTheOutage_ZeroOnceDelivered()
    {
        await using ImmuneService service = Service(Stream(batches: false));
        await service.PublishAsync(Events.Info());
        await AdvanceTimersAsync(6); // 0.1 + 0.2 + 0.4 + 0.8 + 1 + 1 s

        service.Parts.OldestPendingAge.ShouldBe(TimeSpan.FromSeconds(3.5));
        _down = false;
        await AdvanceUntilSettledAsync(service);
        service.Parts.OldestPendingAge.ShouldBe(TimeSpan.Zero);
    }

    private void Check(EventEnvelope envelope)
    {
        _called.TrySetResult();
        if (_down || envelope.Payload.Message == "poison")
        {
            throw new IOException(_down ? "broker down" : "rejected: poison");
        }
    }

    private sealed class PlainStream(OutageTests test) : IEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
        {
            test.Check(envelope);
            lock (test._accepted) test._accepted.Add(envelope);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class BatchStream(OutageTests test) : IBatchEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("A batch stream must be handed batches.");

        public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
        {
            foreach (EventEnvelope envelope in envelopes.Span) test.Check(envelope);
            lock (test._accepted) test._accepted.AddRange(envelopes.ToArray());
            return ValueTask.CompletedTask;
        }
    }
}
