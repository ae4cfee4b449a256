using Immune.Delivery;
using Immune.Tests.TestDoubles;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="StreamCall"/> on its own, with scripted streams and a fake clock: what a run reports for every way a
/// stream can end a call (accept, throw, cancel itself, hang past the timeout, succeed after the watchdog fired), and the
/// service's stop as a shutdown.
/// </summary>
public sealed class StreamCallTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly ObservableTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
    private readonly CancellationTokenSource _stop = new();

    public void Dispose() => _stop.Dispose();

    private static EventEnvelope[] Envelopes(int count) => [.. Enumerable.Range(1, count).Select(i => new EventEnvelope(
        $"evt_{i}", ImmuneEventTypes.EventPublished, "s", null, DateTimeOffset.UnixEpoch,
        new ImmuneEventPublishedPayload(i, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", DateTimeOffset.UnixEpoch), new EventMeta("c")))];

    [Fact]
    public async Task PlainStream_AllAccepted_OneRunDeliversEveryEnvelopeInOrder()
    {
        var stream = new ScriptedStream();
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        StreamCall.Run run = await call.InvokeAsync(Envelopes(4)).AsTask().WaitAsync(Events.HangGuard);

        run.ShouldBe(new StreamCall.Run(4, new Attempt(Outcome.Delivered, null)));
        stream.Accepted.Select(e => e.Id).ShouldBe(["evt_1", "evt_2", "evt_3", "evt_4"]);
        call.AbandonedCalls.ShouldBe(0);
    }

    [Fact]
    public async Task PlainStream_ThirdThrows_TwoDeliveredAndTheThirdFailedWithItsException_NothingAfterIsCalled()
    {
        var boom = new InvalidOperationException("broker said no");
        var stream = new ScriptedStream(c => c.Number == 3 ? ValueTask.FromException(boom) : ValueTask.CompletedTask);
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        StreamCall.Run run = await call.InvokeAsync(Envelopes(5)).AsTask().WaitAsync(Events.HangGuard);

        run.ShouldBe(new StreamCall.Run(2, new Attempt(Outcome.FailedStreamError, boom)));
        stream.CallCount.ShouldBe(3);
    }

    [Fact]
    public async Task Stream_CancelsItsOwnCall_IsAFailedAttemptNotAShutdown()
    {
        var stream = new ScriptedStream(_ => ValueTask.FromCanceled(new CancellationToken(canceled: true)));
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        StreamCall.Run run = await call.InvokeAsync(Envelopes(1)).AsTask().WaitAsync(Events.HangGuard);

        run.Delivered.ShouldBe(0);
        run.Next.Outcome.ShouldBe(Outcome.FailedStreamError);
    }

    [Fact]
    public async Task BatchStream_HangsPastTheTimeout_RunTimesOutAtTheDeadline_TheCallsTokenIsCancelled()
    {
        var seen = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new ScriptedBatchStream((_, _, token) =>
        {
            seen.TrySetResult(token); // the call's token, once the call has it (the stream counts the call before)
            return new ValueTask(new TaskCompletionSource().Task); // hangs, ignoring the token
        });
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        Task<StreamCall.Run> running = call.InvokeAsync(Envelopes(3)).AsTask();
        (await _time.NextTimer()).ShouldBe(Timeout);
        CancellationToken token = await seen.Task.WaitAsync(Events.HangGuard); // the deadline counts from the call
        _time.Advance(Timeout - TimeSpan.FromTicks(1));
        running.IsCompleted.ShouldBeFalse(); // not a tick early
        _time.Advance(TimeSpan.FromTicks(1));

        StreamCall.Run run = await running.WaitAsync(Events.HangGuard);
        (run.Delivered, run.Next.Outcome).ShouldBe((0, Outcome.FailedTimeout));
        run.Next.Exception.ShouldBeOfType<TimeoutException>().Message.ShouldBe("The stream did not complete the call within 00:00:05.");
        token.IsCancellationRequested.ShouldBeTrue();
        call.AbandonedCalls.ShouldBe(1);
    }

    [Fact]
    public async Task PlainStream_SucceedsAfterTheWatchdogFired_TheLateSuccessIsNotCounted_AndTheRunCallsNoMore()
    {
        var late = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new ScriptedStream(c => c.Number == 2 ? new ValueTask(late.Task) : ValueTask.CompletedTask);
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        Task<StreamCall.Run> running = call.InvokeAsync(Envelopes(4)).AsTask();
        await stream.WhenCalled(2);
        await _time.NextTimer();
        _time.Advance(Timeout);
        StreamCall.Run run = await running.WaitAsync(Events.HangGuard);
        late.SetResult(); // the broker took it after all, too late to count: it is retried (at-least-once)

        (run.Delivered, run.Next.Outcome).ShouldBe((1, Outcome.FailedTimeout));
        run.Next.Exception.ShouldBeOfType<TimeoutException>();
        await Task.Yield();
        stream.CallCount.ShouldBe(2); // the late work item found its run over: envelopes 3 and 4 were never offered

        // The next run starts clean.
        StreamCall.Run next = await call.InvokeAsync(Envelopes(2)).AsTask().WaitAsync(Events.HangGuard);
        next.ShouldBe(new StreamCall.Run(2, new Attempt(Outcome.Delivered, null)));
    }

    [Fact]
    public async Task ServiceStopsDuringACall_TheRunEndsAsAShutdown_NotATimeout()
    {
        var stream = ScriptedStream.Hung();
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        Task<StreamCall.Run> running = call.InvokeAsync(Envelopes(2)).AsTask();
        await stream.WhenCalled(1);
        await _stop.CancelAsync();

        StreamCall.Run run = await running.WaitAsync(Events.HangGuard);
        run.Delivered.ShouldBe(0);
        run.Next.Outcome.ShouldBe(Outcome.DroppedShutdown);
        call.AbandonedCalls.ShouldBe(1);
    }

    [Fact]
    public async Task ManyRuns_EachBoundedByItsOwnDeadline()
    {
        bool hang = false;
        var stream = new ScriptedBatchStream((_, _, _) => Volatile.Read(ref hang) ? new ValueTask(new TaskCompletionSource().Task) : ValueTask.CompletedTask);
        using var call = new StreamCall(stream, _time, Timeout, _stop.Token);

        for (int i = 0; i < 10; i++)
        {
            Volatile.Write(ref hang, i % 2 == 1);
            Task<StreamCall.Run> running = call.InvokeAsync(Envelopes(2)).AsTask();
            for (int tick = 0; hang && tick < 10_000 && !running.IsCompleted; tick++)
            {
                _time.Advance(Timeout); // the hanging ones: the watchdog (armed once, re-armed while runs go on) ends each
                await Task.Yield();
            }

            StreamCall.Run run = await running.WaitAsync(Events.HangGuard);
            run.Next.Outcome.ShouldBe(hang ? Outcome.FailedTimeout : Outcome.Delivered, $"run {i}");
        }

        call.AbandonedCalls.ShouldBe(5);
    }
}
