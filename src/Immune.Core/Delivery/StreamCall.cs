using System.Threading.Tasks.Sources;

namespace Immune.Delivery;

/// <summary>
/// Makes one call to the stream at a time and ends it at the publish timeout, however the stream misbehaves: a call
/// that hangs, ignores its token, or blocks inside <c>PublishAsync</c> before it even returns its task.
/// </summary>
/// <remarks>
/// The stream is invoked from a thread-pool work item rather than on the delivery loop's own stack, so a stream that
/// blocks synchronously holds that one thread, not the loop. A watchdog timer on the injected <see cref="TimeProvider"/>
/// completes the call as timed out at its deadline, and its token is cancelled. Exactly one completion wins per call
/// (the stream's, the watchdog's or the shutdown's); a late one is observed and ignored. Queueing the work item with
/// <c>preferLocal</c> lets the loop's own thread pick it up next, so a stream that completes synchronously costs a
/// trampoline, not a thread switch. Not thread-safe for callers: the one delivery loop makes one call at a time.
/// </remarks>
internal sealed class StreamCall : IValueTaskSource<Attempt>, IDisposable
{
    private readonly IEventStream _stream;
    private readonly IBatchEventStream? _batchStream;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _stop;
    private readonly ITimer _watchdog;
    private readonly CancellationTokenRegistration _onStop;
    private ManualResetValueTaskSourceCore<Attempt> _core; // continuations run inline: the loop continues on the completing thread
    private CancellationTokenSource _token = new();
    private long _inFlight; // the id of the call in flight, 0 when none; whoever swaps it to 0 completes the call
    private long _lastId;
    private long _startedAt;

    public StreamCall(IEventStream stream, TimeProvider timeProvider, TimeSpan timeout, CancellationToken stop)
    {
        _stream = stream;
        _batchStream = stream as IBatchEventStream;
        _timeProvider = timeProvider;
        _timeout = timeout;
        _stop = stop;
        using (ExecutionContext.SuppressFlow())
        {
            _watchdog = timeProvider.CreateTimer(static state => ((StreamCall)state!).OnWatchdog(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _onStop = stop.UnsafeRegister(static state => ((StreamCall)state!).OnStop(), this);
    }

    /// <summary>Gets whether the stream takes batches (<see cref="IBatchEventStream"/>).</summary>
    public bool Batches => _batchStream is not null;

    /// <summary>Publishes one envelope (a plain stream) or a batch (a batch stream); completes with how the attempt ended.</summary>
    public ValueTask<Attempt> InvokeAsync(EventEnvelope? envelope, ReadOnlyMemory<EventEnvelope> batch)
    {
        if (_stop.IsCancellationRequested)
        {
            return new ValueTask<Attempt>(new Attempt(Outcome.DroppedShutdown, null));
        }

        _core.Reset();
        long id = ++_lastId;
        _startedAt = _timeProvider.GetTimestamp();
        var work = new Work(this, id, envelope, batch, _token.Token);
        Volatile.Write(ref _inFlight, id);
        _watchdog.Change(_timeout, Timeout.InfiniteTimeSpan);
        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: true);
        return new ValueTask<Attempt>(this, _core.Version);
    }

    /// <summary>Classifies what a call threw. A stream's own cancellation is a failed attempt; only the service's stop is a shutdown.</summary>
    private Attempt Classify(Exception exception) => exception switch
    {
        OperationCanceledException when _stop.IsCancellationRequested => new Attempt(Outcome.DroppedShutdown, null),
        TimeoutException => new Attempt(Outcome.FailedTimeout, exception),
        _ => new Attempt(Outcome.FailedStreamError, exception),
    };

    private void Complete(long id, Attempt attempt)
    {
        if (Interlocked.CompareExchange(ref _inFlight, 0, id) != id)
        {
            return; // another completion won: the call timed out, stopped, or finished already
        }

        _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (attempt.Outcome is Outcome.FailedTimeout or Outcome.DroppedShutdown)
        {
            // The stream may still hold the call: cancel its token, and give the next call a fresh one.
            CancellationTokenSource abandoned = _token;
            _token = new CancellationTokenSource();
            _ = abandoned.CancelAsync().ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        _core.SetResult(attempt);
    }

    private void OnWatchdog()
    {
        long id = Volatile.Read(ref _inFlight);
        if (id == 0)
        {
            return;
        }

        TimeSpan elapsed = _timeProvider.GetElapsedTime(Volatile.Read(ref _startedAt));
        if (elapsed >= _timeout)
        {
            Complete(id, new Attempt(Outcome.FailedTimeout, new TimeoutException($"The stream did not complete the call within {_timeout}.")));
        }
        else
        {
            _watchdog.Change(_timeout - elapsed, Timeout.InfiniteTimeSpan); // a later call than the one it was armed for
        }
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

    Attempt IValueTaskSource<Attempt>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<Attempt>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<Attempt>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    /// <summary>One call, with everything it needs captured, so that a late work item can never run another call's envelope.</summary>
    private sealed class Work(StreamCall owner, long id, EventEnvelope? envelope, ReadOnlyMemory<EventEnvelope> batch, CancellationToken token) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            if (Volatile.Read(ref owner._inFlight) != id)
            {
                return; // timed out or stopped before it started: do not call the stream at all
            }

            ValueTask publishing;
            try
            {
                publishing = owner._batchStream is { } batchStream
                    ? batchStream.PublishBatchAsync(batch, token)
                    : owner._stream.PublishAsync(envelope!, token);
            }
            catch (Exception exception)
            {
                owner.Complete(id, owner.Classify(exception));
                return;
            }

            if (publishing.IsCompleted)
            {
                owner.Complete(id, Observe(publishing));
                return;
            }

            Task task = publishing.AsTask();
            task.ContinueWith(static (t, state) => ((Work)state!).Finished(t), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private void Finished(Task task) => owner.Complete(id, Observe(new ValueTask(task)));

        private Attempt Observe(ValueTask publishing)
        {
            try
            {
                publishing.GetAwaiter().GetResult();
                return new Attempt(Outcome.Delivered, null);
            }
            catch (Exception exception)
            {
                return owner.Classify(exception);
            }
        }
    }
}
