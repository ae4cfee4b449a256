using Immune.Delivery;
using Immune.Internal;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="DeliveryAttempts"/> on its own, in the style of Polly's retry strategy tests: scripted streams, a fake
/// clock advanced when a backoff starts, and the claims it makes recorded in order. A plain stream's failed envelope is
/// retried alone before the rest; a batch stream's batch whole; a timed-out call is an attempt like any other; the
/// service's stop during a backoff gives up the rest at once; an envelope fails for its deadline only once the stream was
/// tried and failed at or after it, and the rest goes on.
/// </summary>
public sealed class DeliveryAttemptsTests : IDisposable
{
    private static readonly TimeSpan Watchdog = TimeSpan.FromHours(1);
    private readonly ObservableTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
    private readonly CancellationTokenSource _stop = new();
    private readonly ImmuneMetrics _metrics = new(null, () => 0, () => 0);
    private readonly List<(int From, int Count, Outcome Outcome, int Attempts)> _claims = [];

    public void Dispose()
    {
        _metrics.Dispose();
        _stop.Dispose();
    }

    private static ImmuneOptions Options(Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions { RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(30), DeliveryAttempts = 3, PublishTimeout = Watchdog };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Delivers <paramref name="count"/> envelopes queued now (or as <paramref name="queuedAt"/> says) and records every claim.</summary>
    private Task<bool> Deliver(IEventStream stream, ImmuneOptions options, int count, Func<int, long>? queuedAt = null)
    {
        var reporter = new DeliveryReporter(NullLogger.Instance, _metrics, _time, TimeSpan.FromMinutes(1));
        var call = new StreamCall(stream, _time, options.PublishTimeout, _stop.Token);
        var attempts = new DeliveryAttempts(call, DeliverySettings.Of(options), _time, reporter, new StreamHealth(_time, reporter, () => 0), static () => 0.5, _stop.Token);
        var batch = new BatchInHand(count);
        PendingEnvelope[] items = [.. Enumerable.Range(1, count).Select(i => new PendingEnvelope(
            i, EnvelopeKind.EventPublished, new ImmuneEvent(i, _time.GetUtcNow(), ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"e{i}"), _time.GetUtcNow(), default, default)
        {
            QueuedAt = queuedAt?.Invoke(i) ?? _time.GetTimestamp(),
        })];
        batch.Take(items);
        EventEnvelope[] envelopes = [.. items.Select(item => new EventEnvelope(
            $"evt_{item.Sequence}", item.Type, "s", null, item.Timestamp,
            new ImmuneEventPublishedPayload(item.Event.Id, item.Event.Severity, item.Event.Type, item.Event.Message, item.Timestamp), new EventMeta("c")))];

        long[] deadlines = [.. items.Select(item => Stamps.Add(item.QueuedAt, Stamps.Of(options.DeliveryTimeout, _time)))];

        return attempts.DeliverAsync(batch, envelopes, deadlines, (int from, int claimed, in Settlement delivery) =>
        {
            lock (_claims)
            {
                _claims.Add((from, claimed, delivery.Outcome, delivery.Attempts));
            }

            return batch.TryClaim(claimed, delivery, out _);
        }).AsTask();
    }

    /// <summary>Waits until a backoff starts (a timer other than the call's watchdog), checks its length and lets it pass.</summary>
    private async Task PassBackoff(TimeSpan expected)
    {
        (await _time.NextBackoff()).ShouldBe(expected);
        _time.Advance(expected);
    }

    [Fact]
    public async Task PlainStream_AnEnvelopeFailsOnce_IsRetriedAloneAfterTheBackoff_ThenTheRestGoesOn()
    {
        var stream = new ScriptedStream(call => call.Number == 3 ? ValueTask.FromException(new IOException("reset")) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(), 5);
        await PassBackoff(TimeSpan.FromSeconds(1)); // jitter 0.5: the nominal delay exactly

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 2, Outcome.Delivered, 1), (2, 1, Outcome.Delivered, 2), (3, 2, Outcome.Delivered, 1)]);
        stream.Accepted.Select(e => e.Id).ShouldBe(["evt_1", "evt_2", "evt_3", "evt_4", "evt_5"]);
        stream.CallCount.ShouldBe(6); // e3 twice, nothing after it before it went through
    }

    [Fact]
    public async Task BatchStream_ACallFails_TheWholeBatchIsRetriedAsOneUnit()
    {
        var stream = new ScriptedBatchStream((number, _, _) => number == 1 ? ValueTask.FromException(new IOException("reset")) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(), 4);
        await PassBackoff(TimeSpan.FromSeconds(1));

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 4, Outcome.Delivered, 2)]);
        stream.Calls.Select(c => c.Length).ShouldBe([4, 4]);
    }

    [Fact]
    public async Task OutOfAttempts_TheEnvelopeFailsWithItsLastReason_TheRestIsDelivered()
    {
        var stream = new ScriptedStream(call => call.Envelope.Id == "evt_1" ? ValueTask.FromException(new IOException("reset")) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(o => o.DeliveryAttempts = 3), 3);
        await PassBackoff(TimeSpan.FromSeconds(1));
        await PassBackoff(TimeSpan.FromSeconds(2)); // doubled

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 1, Outcome.FailedStreamError, 3), (1, 2, Outcome.Delivered, 1)]);
    }

    [Fact]
    public async Task ACallThatHangsPastThePublishTimeout_IsAFailedAttempt_AndRetried()
    {
        TimeSpan publishTimeout = TimeSpan.FromSeconds(5);
        var stream = new ScriptedStream(call => call.Number == 1 ? new ValueTask(new TaskCompletionSource().Task) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(o => o.PublishTimeout = publishTimeout), 1);
        await stream.WhenCalled(1);
        (await _time.NextTimer()).ShouldBe(publishTimeout); // the call's watchdog
        _time.Advance(publishTimeout);
        (await _time.NextBackoff()).ShouldBe(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 1, Outcome.Delivered, 2)]);
        stream.CallCount.ShouldBe(2);
    }

    [Fact]
    public async Task TheServiceStopsDuringABackoff_TheRestOfTheBatchIsGivenUpAtOnce_WithNoFurtherCall()
    {
        var stream = new ScriptedStream(call => call.Number == 1 ? ValueTask.FromException(new IOException("reset")) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(), 3);
        await _time.NextBackoff(); // in the backoff
        await _stop.CancelAsync();

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 3, Outcome.DroppedShutdown, 1)]);
        stream.CallCount.ShouldBe(1);
    }

    [Fact]
    public async Task TheHeadsDeliveryTimeRunsOutDuringItsBackoff_TheWaitEndsAtItsDeadline_OneMoreAttemptDecides_TheRestGoesOn()
    {
        var stream = new ScriptedStream(call => call.Envelope.Id == "evt_1" ? ValueTask.FromException(new IOException("reset")) : ValueTask.CompletedTask);
        long first = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(2));
        long second = _time.GetTimestamp(); // queued two seconds after the first

        Task<bool> delivering = Deliver(stream, Options(o => { o.DeliveryTimeout = TimeSpan.FromSeconds(3); o.RetryDelay = TimeSpan.FromSeconds(10); }), 2, i => i == 1 ? first : second);
        await PassBackoff(TimeSpan.FromSeconds(1)); // not the 10 s backoff: only until the head's deadline

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 1, Outcome.FailedStreamError, 2), (1, 1, Outcome.Delivered, 1)]); // tried at its deadline, and failed then
        stream.CallCount.ShouldBe(3);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheClockJumpsPastTheDeadlineWhileNothingWasTried_TheEnvelopesAreTriedAndDelivered(bool batches)
    {
        IEventStream stream = batches ? new ScriptedBatchStream() : new ScriptedStream();
        long queued = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMinutes(10)); // a machine resumed from suspend, or a test's fake clock

        bool delivered = await Deliver(stream, Options(o => o.DeliveryTimeout = TimeSpan.FromMinutes(2)), 3, _ => queued).WaitAsync(Events.HangGuard);

        delivered.ShouldBeTrue();
        _claims.ShouldBe(batches ? [(0, 3, Outcome.Delivered, 1)] : [(0, 3, Outcome.Delivered, 1)]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAttemptInFlightWhenItsDeadlinePasses_EndsThere_AsTheEnvelopesTry(bool batches)
    {
        var hung = new TaskCompletionSource();
        IEventStream stream = batches
            ? new ScriptedBatchStream((_, _, _) => new ValueTask(hung.Task))
            : new ScriptedStream(_ => new ValueTask(hung.Task));

        Task<bool> delivering = Deliver(stream, Options(o => { o.DeliveryTimeout = TimeSpan.FromSeconds(3); o.PublishTimeout = TimeSpan.FromSeconds(5); }), 2);
        (await _time.NextWatchdog()).ShouldBe(TimeSpan.FromSeconds(3)); // the deadline, before the publish timeout
        await (batches ? ((ScriptedBatchStream)stream).WhenCalled(1) : (Task)((ScriptedStream)stream).WhenCalled(1));
        _time.Advance(TimeSpan.FromSeconds(3));

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe(batches
            ? [(0, 2, Outcome.FailedTimeout, 1)] // the whole batch was in the call that timed out
            : [(0, 1, Outcome.FailedTimeout, 1), (1, 1, Outcome.FailedTimeout, 0)]); // the second waited behind it, and its deadline passed too
    }

    [Fact]
    public async Task AnAttemptThatStartsAfterTheDeadline_HasItsFullPublishTimeout()
    {
        var hung = new TaskCompletionSource();
        var stream = new ScriptedStream(_ => new ValueTask(hung.Task));
        long queued = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMinutes(10));

        Task<bool> delivering = Deliver(stream, Options(o => { o.DeliveryTimeout = TimeSpan.FromSeconds(3); o.PublishTimeout = TimeSpan.FromSeconds(5); }), 1, _ => queued);
        (await _time.NextWatchdog()).ShouldBe(TimeSpan.FromSeconds(5));
        await stream.WhenCalled(1);
        _time.Advance(TimeSpan.FromSeconds(5));

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 1, Outcome.FailedTimeout, 1)]); // tried after its deadline, and failed: no further attempt
        stream.CallCount.ShouldBe(1);
    }

    [Fact]
    public async Task TheHeadFailsAfterTheDeadlinesOfThoseBehindIt_TheyFailUntriedAsTimeout()
    {
        var stream = new ScriptedStream(call => call.Envelope.Id == "evt_1" ? ValueTask.FromException(new IOException("reset")) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(o => { o.DeliveryTimeout = TimeSpan.FromSeconds(3); o.RetryDelay = TimeSpan.FromSeconds(10); }), 3);
        await PassBackoff(TimeSpan.FromSeconds(3)); // until the deadline all three share

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 1, Outcome.FailedStreamError, 2), (1, 2, Outcome.FailedTimeout, 0)]);
        stream.CallCount.ShouldBe(2); // only the head was ever tried
    }

    [Fact]
    public async Task BatchStream_RejectsOneEnvelope_ItFailsAtOnceInItsPlace_AndTheRestIsSentAgainAtOnce()
    {
        var stream = new ScriptedBatchStream((number, _, _) => number == 1 ? ValueTask.FromException(new EnvelopeRejectedException("too large", ["evt_3"])) : ValueTask.CompletedTask);

        bool delivered = await Deliver(stream, Options(), 5).WaitAsync(Events.HangGuard);

        delivered.ShouldBeTrue();
        _claims.ShouldBe([(0, 2, Outcome.Delivered, 1), (2, 1, Outcome.FailedRejected, 1), (3, 2, Outcome.Delivered, 1)]);
        stream.Calls.Select(c => c.Length).ShouldBe([5, 2, 2]); // no backoff, and never the rejected one again
    }

    [Fact]
    public async Task BatchStream_RejectsWithoutIds_EveryEnvelopeOfTheCallFails()
    {
        var stream = new ScriptedBatchStream((_, _, _) => ValueTask.FromException(new EnvelopeRejectedException()));

        (await Deliver(stream, Options(), 4).WaitAsync(Events.HangGuard)).ShouldBeTrue();

        _claims.ShouldBe([(0, 4, Outcome.FailedRejected, 1)]);
        stream.Calls.Count.ShouldBe(1);
    }

    [Fact]
    public async Task BatchStream_RejectsDuringARetry_TheRejectedFailAndTheRestGoesOn()
    {
        var stream = new ScriptedBatchStream((number, _, _) => number switch
        {
            1 => ValueTask.FromException(new IOException("reset")),
            2 => ValueTask.FromException(new EnvelopeRejectedException(null, ["evt_1", "evt_4"])),
            _ => ValueTask.CompletedTask,
        });

        Task<bool> delivering = Deliver(stream, Options(), 4);
        await PassBackoff(TimeSpan.FromSeconds(1));

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 1, Outcome.FailedRejected, 1), (1, 2, Outcome.Delivered, 1), (3, 1, Outcome.FailedRejected, 1)]);
        stream.Calls.Select(c => c.Length).ShouldBe([4, 4, 2]);
    }

    [Fact]
    public async Task PlainStream_RejectsOneEnvelope_ItFailsAlone_TheNextIsSentAtOnce()
    {
        var stream = new ScriptedStream(call => call.Envelope.Id == "evt_2" ? ValueTask.FromException(new EnvelopeRejectedException("refused by a rule")) : ValueTask.CompletedTask);

        (await Deliver(stream, Options(), 3).WaitAsync(Events.HangGuard)).ShouldBeTrue();

        _claims.ShouldBe([(0, 1, Outcome.Delivered, 1), (1, 1, Outcome.FailedRejected, 1), (2, 1, Outcome.Delivered, 1)]);
        stream.CallCount.ShouldBe(3);
    }

    [Fact]
    public async Task ARejectionNamingNoEnvelopeOfTheCall_IsAPlainFailure_RetriedAfterTheBackoff()
    {
        var stream = new ScriptedBatchStream((number, _, _) => number == 1 ? ValueTask.FromException(new EnvelopeRejectedException(null, ["evt_someone_elses"])) : ValueTask.CompletedTask);

        Task<bool> delivering = Deliver(stream, Options(), 3);
        await PassBackoff(TimeSpan.FromSeconds(1));

        (await delivering.WaitAsync(Events.HangGuard)).ShouldBeTrue();
        _claims.ShouldBe([(0, 3, Outcome.Delivered, 2)]);
    }
}
