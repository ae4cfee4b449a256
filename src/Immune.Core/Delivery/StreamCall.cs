using System.Threading.Tasks.Sources;

namespace Immune.Delivery;

/// <summary>
/// Hands envelopes to the stream — a batch stream one call for all of them, a plain stream one call each, in order —
/// and bounds every call by the publish timeout, however the stream misbehaves: a call that hangs, ignores its token,
/// or blocks inside <c>PublishAsync</c> before it even returns its task.
/// </summary>
/// <remarks>
/// <para>
/// One run is one thread-pool work item, not one per envelope: a plain stream that completes synchronously is called
/// for a whole run in a tight loop, and the delivery loop waits once. The stream is never called on the loop's own
/// stack, so a stream that blocks synchronously holds that work item's thread, not delivery.
/// </para>
/// <para>
/// A watchdog timer on the injected <see cref="TimeProvider"/> checks the call in progress (each call stamps its limit):
/// a call ends at its publish timeout or at the delivery deadline of the envelope it carries first, whichever comes
/// first (a call that starts at or after that deadline has its full publish timeout). At a call's limit the watchdog
/// ends the run as timed out and cancels the call's token. It is armed when a run starts and finds it idle (or armed
/// for later), and re-arms itself while runs go on, so a busy loop does not re-arm a timer per run.
/// Exactly one completion wins per run (the work item's, the watchdog's or the shutdown's), and the envelopes that
/// succeeded before it are counted by one handshake on the run's progress: a success the watchdog has already cut off is
/// not counted (it is retried: at-least-once). A late work item finds its run over and calls the stream no more.
/// </para>
/// </remarks>
internal sealed class StreamCall : IValueTaskSource<StreamCall.Run>, IDisposable
{
    private const int Over = -1;

    private readonly IEventStream _stream;
    private readonly IBatchEventStream? _batchStream;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly long _timeoutStamps; // the publish timeout in the TimeProvider's timestamp units
    private readonly CancellationToken _stop;
    private readonly ITimer _watchdog;
    private readonly Gate _arming = new(); // one arming of the watchdog at a time: InvokeAsync and the watchdog itself
    private readonly CancellationTokenRegistration _onStop;
    private ManualResetValueTaskSourceCore<Run> _core; // continuations run inline: the loop continues on the completing thread
    private CancellationTokenSource _token = new();
    private long _inFlight; // the id of the run in progress, 0 when none; whoever swaps it to 0 completes the run
    private long _lastId;
    private long _abandonedCalls; // calls ended by the watchdog or the stop while the stream may still hold their memory
    private long _limitAt;   // when the call in progress must end (a timestamp)
    private bool _limitIsDeadline; // whether that limit is the envelope's delivery deadline rather than the publish timeout
    private long _armedFor;  // when the watchdog is due to fire (a timestamp); 0 while idle. Guarded by _arming
    private Work? _current;  // the run in progress, or the last one

    public StreamCall(IEventStream stream, TimeProvider timeProvider, TimeSpan timeout, CancellationToken stop)
    {
        _stream = stream;
        _batchStream = stream as IBatchEventStream;
        _timeProvider = timeProvider;
        _timeout = timeout;
        _timeoutStamps = Stamps.Of(timeout, timeProvider);
        _stop = stop;
        using (ExecutionContext.SuppressFlow())
        {
            _watchdog = timeProvider.CreateTimer(static state => ((StreamCall)state!).OnWatchdog(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _onStop = stop.UnsafeRegister(static state => ((StreamCall)state!).OnStop(), this);
    }

    /// <summary>Gets how many calls were ended (timed out or stopped) while the stream may still be reading their envelopes.</summary>
    public long AbandonedCalls => Volatile.Read(ref _abandonedCalls);

    /// <summary>Gets whether the stream takes batches (<see cref="IBatchEventStream"/>).</summary>
    public bool Batches => _batchStream is not null;

    /// <summary>
    /// Publishes <paramref name="envelopes"/>: in one call to a batch stream, else one by one until the first that does
    /// not succeed. Completes with how many were delivered and, when not all, how the next one's attempt ended.
    /// </summary>
    /// <param name="envelopes">The envelopes, in order.</param>
    /// <param name="deadlines">Their delivery deadlines (timestamps, <see cref="long.MaxValue"/> for none), in the same
    /// order; empty when none has one. A call ends at the deadline of the envelope it carries first, if that comes
    /// before its publish timeout.</param>
    public ValueTask<Run> InvokeAsync(ReadOnlyMemory<EventEnvelope> envelopes, ReadOnlyMemory<long> deadlines = default)
    {
        if (_stop.IsCancellationRequested)
        {
            return new ValueTask<Run>(new Run(0, new Attempt(Outcome.DroppedShutdown, null)));
        }

        _core.Reset();
        long id = ++_lastId;
        var work = new Work(this, id, envelopes, deadlines, _token.Token);
        _current = work;
        long limit = StartCall(deadlines.IsEmpty ? long.MaxValue : deadlines.Span[0]);
        Volatile.Write(ref _inFlight, id);
        Arm(limit);

        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: true);
        return new ValueTask<Run>(this, _core.Version);
    }

    /// <summary>Stamps the limit of a call starting now for an envelope due by <paramref name="deadline"/>; returns it.</summary>
    private long StartCall(long deadline)
    {
        long now = _timeProvider.GetTimestamp();
        long byTimeout = Stamps.Add(now, _timeoutStamps);
        bool toDeadline = now < deadline && deadline < byTimeout; // a call that starts at or after its deadline has its full timeout
        long limit = toDeadline ? deadline : byTimeout;
        Volatile.Write(ref _limitIsDeadline, toDeadline);
        Volatile.Write(ref _limitAt, limit);
        return limit;
    }

    /// <summary>
    /// Arms the watchdog for <paramref name="limit"/> unless it is due to fire before it already. Re-arming a system timer
    /// costs a signal to the timer thread: a busy loop whose limits only grow re-arms it only when it fires.
    /// </summary>
    private void Arm(long limit)
    {
        lock (_arming)
        {
            if (_armedFor != 0 && _armedFor <= limit)
            {
                return; // it fires first, and re-arms for what remains
            }

            _armedFor = limit;
            _watchdog.Change(Stamps.Until(limit, _timeProvider), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Classifies what a call threw. A stream's own cancellation is a failed attempt; only the service's stop is a shutdown.</summary>
    private Attempt Classify(Exception exception) => exception switch
    {
        OperationCanceledException when _stop.IsCancellationRequested => new Attempt(Outcome.DroppedShutdown, null),
        TimeoutException => new Attempt(Outcome.FailedTimeout, exception),
        EnvelopeRejectedException => new Attempt(Outcome.FailedRejected, exception),
        _ => new Attempt(Outcome.FailedStreamError, exception),
    };

    /// <summary>Ends run <paramref name="id"/> with <paramref name="next"/> as the outcome of its first undelivered envelope, if nothing ended it first.</summary>
    private void Complete(long id, Attempt next)
    {
        if (Interlocked.CompareExchange(ref _inFlight, 0, id) != id)
        {
            return; // another completion won: the run timed out, stopped, or finished already
        }

        Work run = _current!; // still this run's: the next starts only after this completion is consumed
        int delivered = Interlocked.Exchange(ref run.Progress, Over);
        if (delivered == run.Count)
        {
            next = new Attempt(Outcome.Delivered, null); // everything went through before the deadline was seen
        }
        else if (next.Outcome is Outcome.FailedTimeout or Outcome.DroppedShutdown)
        {
            // The stream may still hold the call: cancel its token, and give the next run a fresh one.
            Interlocked.Increment(ref _abandonedCalls);
            CancellationTokenSource abandoned = _token;
            _token = new CancellationTokenSource();
            _ = abandoned.CancelAsync().ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        _core.SetResult(new Run(delivered, next));
    }

    private void OnWatchdog()
    {
        long id;
        lock (_arming)
        {
            _armedFor = 0; // idle unless a run is in flight (a run starting now arms it again)
            id = Volatile.Read(ref _inFlight);
            if (id == 0)
            {
                return;
            }

            long limit = Volatile.Read(ref _limitAt);
            if (_timeProvider.GetTimestamp() < limit)
            {
                _armedFor = limit; // a later call than the one it was armed for
                _watchdog.Change(Stamps.Until(limit, _timeProvider), Timeout.InfiniteTimeSpan);
                return;
            }
        }

        Complete(id, new Attempt(Outcome.FailedTimeout, new TimeoutException(Volatile.Read(ref _limitIsDeadline)
            ? "The stream did not complete the call before the envelope's delivery deadline."
            : $"The stream did not complete the call within {_timeout}.")));
    }

    private void OnStop()
    {
        long id = Volatile.Read(ref _inFlight);
        if (id != 0)
        {
            Complete(id, new Attempt(Outcome.DroppedShutdown, null));
        }
    }

    public void Dispose()
    {
        _onStop.Dispose();
        _watchdog.Dispose();
    }

    Run IValueTaskSource<Run>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<Run>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<Run>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    /// <summary>What a run achieved: how many envelopes were delivered, in order, and how the attempt of the next one ended (<see cref="Outcome.Delivered"/> when all were).</summary>
    internal readonly record struct Run(int Delivered, Attempt Next);

    /// <summary>One run, with everything it needs captured, so that a late work item can never call the stream for another run.</summary>
    private sealed class Work(StreamCall owner, long id, ReadOnlyMemory<EventEnvelope> envelopes, ReadOnlyMemory<long> deadlines, CancellationToken token) : IThreadPoolWorkItem
    {
        /// <summary>Envelopes delivered so far; <see cref="Over"/> once the run is completed. Moved only by compare-and-swap.</summary>
        public int Progress;

        public int Count => envelopes.Length;

        public void Execute() => Continue();

        /// <summary>Calls the stream for the run's next envelopes until one is pending, fails, or the run is over.</summary>
        private void Continue()
        {
            while (Volatile.Read(ref owner._inFlight) == id)
            {
                int next = Volatile.Read(ref Progress);
                if (next == Over)
                {
                    return; // the run ended between the check and here
                }

                if (next > 0)
                {
                    owner.StartCall(deadlines.IsEmpty ? long.MaxValue : deadlines.Span[next]); // the first was stamped by the run
                }

                ValueTask publishing;
                try
                {
                    publishing = owner._batchStream is { } batchStream
                        ? batchStream.PublishBatchAsync(envelopes, token)
                        : owner._stream.PublishAsync(envelopes.Span[next], token);
                }
                catch (Exception exception)
                {
                    owner.Complete(id, owner.Classify(exception));
                    return;
                }

                if (!publishing.IsCompleted)
                {
                    publishing.AsTask().ContinueWith(static (t, state) => ((Work)state!).Finished(t), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    return;
                }

                if (!Succeeded(publishing))
                {
                    return;
                }
            }
        }

        private void Finished(Task task)
        {
            if (Succeeded(new ValueTask(task)))
            {
                Continue();
            }
        }

        /// <summary>Observes one finished call; on success counts it and says whether the run goes on, else ends the run.</summary>
        private bool Succeeded(ValueTask publishing)
        {
            try
            {
                publishing.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                owner.Complete(id, owner.Classify(exception));
                return false;
            }

            int from = Volatile.Read(ref Progress);
            int to = owner._batchStream is null ? from + 1 : envelopes.Length;
            if (from == Over || Interlocked.CompareExchange(ref Progress, to, from) != from)
            {
                return false; // the run was ended meanwhile (timed out or stopped): this success is not counted, and is retried
            }

            if (to == envelopes.Length)
            {
                owner.Complete(id, new Attempt(Outcome.Delivered, null));
                return false;
            }

            return true;
        }
    }
}
