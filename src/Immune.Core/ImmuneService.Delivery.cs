using System.Diagnostics;
using Immune.Internal;
using Microsoft.Extensions.Logging;

namespace Immune;

// The delivery pipeline: a bounded priority queue drained by one loop that cannot die, exact per-envelope accounting,
// flush watermarks and a shutdown that returns even when the stream hangs.
public sealed partial class ImmuneService
{
    private const int Running = 0, Stopping = 1;
    private const int BatchSize = 64;

    private readonly DeliveryQueue _queue;
    private readonly EnvelopeFactory _envelopes;
    private readonly ImmuneMetrics _metrics;
    private readonly LogLimiter _failureLog;
    private readonly LogLimiter _dropLog;
    private readonly Task? _loop;
    private readonly CancellationTokenSource _stop = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();
    private CancellationTokenSource _attempt = new(); // the stream's token; only the loop uses and replaces it

    // Guarded by _gate. Every envelope gets the next sequence when queued and is settled exactly once.
    private long _lastSequence;
    private long _droppedQueueFull;
    private Tally _settled;
    private bool _abandoned;

    // The batch the loop is delivering: taken from the queue under the lock, settled under the lock when done, so the
    // loop takes the lock twice per batch instead of once per envelope. In between, the loop publishes its progress
    // through _batchDone (results before it are final), which keeps every stats snapshot exact.
    private readonly PendingEnvelope[] _batch = new PendingEnvelope[BatchSize];
    private readonly Delivery[] _results = new Delivery[BatchSize];
    private int _batchCount; // guarded by _gate
    private int _batchDone;  // written by the loop with Volatile.Write after each result
    private TaskCompletionSource? _wakeup;
    private TaskCompletionSource? _disposed;
    private volatile int _state = Running;

    /// <summary>The delivery loop, for tests that must see it end.</summary>
    internal Task DeliveryLoop => _loop ?? Task.CompletedTask;

    /// <summary>Waits until every envelope queued before the call is delivered, failed or dropped (not merely dequeued).</summary>
    /// <param name="cancellationToken">Ends the wait (with <see cref="OperationCanceledException"/>); delivery goes on.</param>
    /// <returns>A task that completes when those envelopes are settled; at once when there are none, or after disposal.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task settled;
        lock (_gate)
        {
            settled = WaitForSettledLocked(_lastSequence);
        }

        return cancellationToken.CanBeCanceled ? settled.WaitAsync(cancellationToken) : settled;
    }

    /// <summary>Gets the delivery counts, taken atomically so that <c>Queued == Delivered + Failed + Dropped + Pending</c>.</summary>
    /// <returns>A snapshot of the counts.</returns>
    public ImmuneDeliveryStats GetDeliveryStats()
    {
        lock (_gate)
        {
            Tally tally = _settled;
            int done = BatchDoneLocked();
            for (int i = 0; i < done; i++)
            {
                tally.Add(_results[i].Outcome);
            }

            return new ImmuneDeliveryStats
            {
                Queued = _lastSequence,
                Delivered = tally.Delivered,
                Failed = tally.FailedTimeout + tally.FailedStreamError,
                Dropped = _droppedQueueFull + tally.DroppedShutdown,
                Pending = _queue.Count + (_batchCount - done),
                FailedTimeout = tally.FailedTimeout,
                FailedStreamError = tally.FailedStreamError,
                DroppedQueueFull = _droppedQueueFull,
                DroppedShutdown = tally.DroppedShutdown,
            };
        }
    }

    /// <summary>
    /// Stops intake, drains the queue within <see cref="ImmuneOptions.ShutdownTimeout"/>, counts what remains as dropped
    /// (reason shutdown) and logs a summary. Returns even when the stream hangs. Idempotent: later calls return the same task.
    /// </summary>
    /// <returns>A task that completes when the service has stopped.</returns>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource? wakeup;
        lock (_gate)
        {
            if (_disposed is not null)
            {
                return new ValueTask(_disposed.Task);
            }

            _disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _state = Stopping;
            wakeup = TakeWakeupLocked();
        }

        wakeup?.TrySetResult();
        return new ValueTask(DisposeCoreAsync());
    }

    /// <summary>Disposes synchronously: see <see cref="DisposeAsync"/>. Blocks for at most the shutdown timeout.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task DisposeCoreAsync()
    {
        try
        {
            if (_loop is not null && !await DrainedWithinAsync(_options.ShutdownTimeout).ConfigureAwait(false))
            {
                // Out of time: stop the attempt in progress and count everything still pending as dropped.
                await _stop.CancelAsync().ConfigureAwait(false);
                Abandoned abandoned;
                lock (_gate)
                {
                    abandoned = AbandonLocked();
                }

                ReportAbandoned(abandoned);
            }

            ImmuneDeliveryStats stats = GetDeliveryStats();
            Log.DeliveryStopped(_logger, stats.Queued, stats.Delivered, stats.Failed, stats.Dropped);
        }
        finally
        {
            _metrics.Dispose();
            _disposed!.TrySetResult();
        }
    }

    private async Task<bool> DrainedWithinAsync(TimeSpan timeout)
    {
        try
        {
            await _loop!.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_state != Running, this);

    /// <summary>
    /// Queues the envelopes of one publish or change: the first, then <c>immune.critical_event</c> when it makes the
    /// event CRITICAL; and takes the loop's wake-up, to be signalled once the lock is released.
    /// </summary>
    private Enqueued EnqueueEnvelopesLocked(
        EnvelopeKind kind, ImmuneEvent source, DateTimeOffset timestamp, ImmuneSeverity previous, ActivityTraceId correlation, bool critical)
    {
        var enqueued = default(Enqueued);
        if (_stream is null)
        {
            return enqueued;
        }

        enqueued.LastSequence = EnqueueLocked(kind, source, timestamp, previous, correlation, ref enqueued.Shed);
        enqueued.Count = 1;
        if (critical)
        {
            enqueued.LastSequence = EnqueueLocked(EnvelopeKind.CriticalEvent, source, timestamp, default, correlation, ref enqueued.Shed);
            enqueued.Count = 2;
        }

        enqueued.Wakeup = TakeWakeupLocked();
        return enqueued;
    }

    /// <summary>Queues one envelope; sheds per the priority rule when full. Returns its sequence.</summary>
    private long EnqueueLocked(EnvelopeKind kind, ImmuneEvent source, DateTimeOffset timestamp, ImmuneSeverity previous, ActivityTraceId correlation, ref Shed shed)
    {
        long sequence = ++_lastSequence;
        if (_queue.Enqueue(new PendingEnvelope(sequence, kind, source, timestamp, previous, correlation), out PendingEnvelope dropped))
        {
            _droppedQueueFull++;
            shed.Add(dropped);
            CompleteWaitersLocked();
        }

        return sequence;
    }

    /// <summary>Read by the <c>immune.queue.length</c> gauge when a listener collects, not kept up to date on every publish.</summary>
    private int QueueLength()
    {
        lock (_gate)
        {
            return _queue.Count;
        }
    }

    private TaskCompletionSource? TakeWakeupLocked()
    {
        TaskCompletionSource? wakeup = _wakeup;
        _wakeup = null;
        return wakeup;
    }

    /// <summary>Runs after a publish or change released the lock: wakes the loop, reports sheds, and waits in inline mode.</summary>
    private ValueTask<long> AfterEnqueue(long eventId, in Enqueued enqueued, CancellationToken cancellationToken)
    {
        enqueued.Wakeup?.TrySetResult();
        _metrics.Queued(enqueued.Count);
        if (enqueued.Shed.Count > 0)
        {
            ReportShed(enqueued.Shed);
        }

        return _options.Delivery == ImmuneDelivery.Inline && enqueued.Count > 0
            ? WaitInlineAsync(eventId, enqueued.LastSequence, cancellationToken)
            : new ValueTask<long>(eventId);
    }

    private async ValueTask<long> WaitInlineAsync(long eventId, long lastSequence, CancellationToken cancellationToken)
    {
        Task settled;
        lock (_gate)
        {
            settled = WaitForSettledLocked(lastSequence);
        }

        try
        {
            await settled.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The event is recorded and its envelopes stay queued; the caller only stopped waiting.
        }

        return eventId;
    }

    private Task WaitForSettledLocked(long sequence)
    {
        if (SettledThroughLocked() >= sequence)
        {
            return Task.CompletedTask;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter, sequence);
        return waiter.Task;
    }

    /// <summary>
    /// The highest sequence up to which every envelope is settled. The loop takes envelopes in sequence order, a batch
    /// at a time, so everything before its batch (or before the oldest waiting) is settled or was shed.
    /// </summary>
    private long SettledThroughLocked()
        => _batchCount > 0 ? _batch[0].Sequence - 1
            : _queue.OldestSequence is long oldest ? oldest - 1
            : _lastSequence;

    private int BatchDoneLocked() => _batchCount > 0 ? Volatile.Read(ref _batchDone) : 0;

    private void CompleteWaitersLocked()
    {
        long settled = SettledThroughLocked();
        while (_waiters.TryPeek(out TaskCompletionSource? waiter, out long sequence) && sequence <= settled)
        {
            _waiters.Dequeue();
            waiter.TrySetResult(); // continuations run asynchronously, never under the lock
        }
    }

    /// <summary>
    /// Gives up on everything pending: the results the loop already has count as they are, the rest of its batch and the
    /// whole queue as dropped (shutdown). Idempotent. The loop, when it comes back, sees <c>_abandoned</c> and settles nothing.
    /// </summary>
    private Abandoned AbandonLocked()
    {
        int done = BatchDoneLocked();
        for (int i = 0; i < done; i++)
        {
            Settle(_results[i].Outcome); // the loop reported these already
        }

        PendingEnvelope? first = done < _batchCount ? _batch[done] : null;
        long count = _batchCount - done;
        _batchCount = 0;
        while (_queue.TryDequeue(out PendingEnvelope item))
        {
            first ??= item;
            count++;
        }

        _settled.DroppedShutdown += count;
        _abandoned = true;
        CompleteWaitersLocked();
        return new Abandoned(first, count);
    }

    private void ReportAbandoned(Abandoned abandoned) => ReportShutdownDrops(abandoned.FirstDropped, abandoned.Dropped);

    private async Task RunDeliveryLoopAsync()
    {
        int count = 0;
        while (true)
        {
            if (count > 0)
            {
                bool settled;
                lock (_gate)
                {
                    settled = !_abandoned; // else disposal counted this batch already
                    if (settled)
                    {
                        for (int i = 0; i < count; i++)
                        {
                            Settle(_results[i].Outcome);
                        }

                        _batchCount = 0;
                        CompleteWaitersLocked();
                    }
                }

                if (!settled)
                {
                    return;
                }
            }

            bool exit = false;
            Abandoned abandoned = default;
            Task? idle = null;
            lock (_gate)
            {
                count = 0;
                if (_abandoned)
                {
                    exit = true;
                }
                else if (_stop.IsCancellationRequested)
                {
                    abandoned = AbandonLocked();
                    exit = true;
                }
                else
                {
                    while (count < BatchSize && _queue.TryDequeue(out _batch[count]))
                    {
                        count++;
                    }

                    if (count > 0)
                    {
                        _batchCount = count;
                        Volatile.Write(ref _batchDone, 0);
                    }
                    else if (_state != Running)
                    {
                        exit = true; // drained
                    }
                    else
                    {
                        _wakeup = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        idle = _wakeup.Task;
                    }
                }

                CompleteWaitersLocked();
            }

            if (exit)
            {
                ReportAbandoned(abandoned);

                return;
            }

            if (idle is not null)
            {
                await idle.ConfigureAwait(false);
                continue;
            }

            for (int i = 0; i < count; i++)
            {
                Delivery result;
                try
                {
                    result = await DeliverAsync(_batch[i]).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // Nothing in DeliverAsync should throw; if it does, the envelope fails and the loop lives on.
                    Log.DeliveryLoopFault(_logger, exception);
                    result = new Delivery(Outcome.FailedStreamError, null, 0, exception, TimeSpan.Zero);
                }

                if (Volatile.Read(ref _abandoned))
                {
                    return; // disposal gave up on this envelope and the rest of the batch, and counted them
                }

                // Logs and metrics first, so that whoever waits for this envelope to settle (FlushAsync) finds them
                // written. A shutdown that gives up between the check above and the progress write below counts this
                // one envelope in the metrics as dropped too; the stats, taken under the lock, count it once.
                ReportOutcome(_batch[i], result);
                _results[i] = result;
                Volatile.Write(ref _batchDone, i + 1);
            }
        }
    }

    /// <summary>Counts one settled envelope. Called under the lock.</summary>
    private void Settle(Outcome outcome) => _settled.Add(outcome);

    private async ValueTask<Delivery> DeliverAsync(PendingEnvelope pending)
    {
        EventEnvelope envelope = _envelopes.Create(pending);
        long started = _timeProvider.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            Attempt outcome = await AttemptAsync(envelope).ConfigureAwait(false);
            if (outcome.Outcome is Outcome.Delivered or Outcome.DroppedShutdown || attempt == _options.DeliveryAttempts)
            {
                return new Delivery(outcome.Outcome, envelope, attempt, outcome.Exception, _timeProvider.GetElapsedTime(started));
            }

            TimeSpan delay = Backoff(attempt);
            Log.AttemptFailed(_logger, attempt, _options.DeliveryAttempts, envelope.Id, envelope.Type, ReasonOf(outcome.Outcome), delay, outcome.Exception);
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, _timeProvider, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return new Delivery(Outcome.DroppedShutdown, envelope, attempt, null, _timeProvider.GetElapsedTime(started));
                }
            }
        }
    }

    private ValueTask<Attempt> AttemptAsync(EventEnvelope envelope)
    {
        if (_stop.IsCancellationRequested)
        {
            return new ValueTask<Attempt>(new Attempt(Outcome.DroppedShutdown, null));
        }

        ValueTask publishing;
        try
        {
            publishing = _stream!.PublishAsync(envelope, _attempt.Token);
        }
        catch (Exception exception)
        {
            return new ValueTask<Attempt>(Classify(exception));
        }

        return publishing.IsCompletedSuccessfully
            ? new ValueTask<Attempt>(new Attempt(Outcome.Delivered, null))
            : AwaitAttemptAsync(publishing);
    }

    private async ValueTask<Attempt> AwaitAttemptAsync(ValueTask publishing)
    {
        Task task = publishing.AsTask();
        try
        {
            // The service enforces the timeout itself: a stream that ignores its token cannot stall delivery.
            await task.WaitAsync(_options.PublishTimeout, _timeProvider, _stop.Token).ConfigureAwait(false);
            return new Attempt(Outcome.Delivered, null);
        }
        catch (Exception exception) when (!task.IsCompleted)
        {
            // Timed out or stopping while the stream still holds the attempt: cancel its token, observe its end, move on.
            CancellationTokenSource abandoned = _attempt;
            _attempt = new CancellationTokenSource();
            _ = abandoned.CancelAsync().ContinueWith(static t => t.Exception, TaskScheduler.Default);
            _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return _stop.IsCancellationRequested
                ? new Attempt(Outcome.DroppedShutdown, null)
                : new Attempt(Outcome.FailedTimeout, exception);
        }
        catch (Exception exception)
        {
            return Classify(exception);
        }
    }

    /// <summary>A stream's own cancellation is a failed attempt, never a shutdown: only the service's own stop ends delivery.</summary>
    private Attempt Classify(Exception exception) => exception switch
    {
        OperationCanceledException when _stop.IsCancellationRequested => new Attempt(Outcome.DroppedShutdown, null),
        TimeoutException => new Attempt(Outcome.FailedTimeout, exception),
        _ => new Attempt(Outcome.FailedStreamError, exception),
    };

    /// <summary>Exponential backoff from <see cref="ImmuneOptions.RetryDelay"/>, with ±20% jitter against synchronized retries.</summary>
    private TimeSpan Backoff(int attempt)
    {
        double factor = Math.Pow(2, attempt - 1) * (0.8 + (0.4 * Random.Shared.NextDouble()));
        return TimeSpan.FromTicks((long)Math.Min(_options.RetryDelay.Ticks * factor, TimeSpan.FromMinutes(5).Ticks));
    }

    private void ReportOutcome(in PendingEnvelope pending, in Delivery delivery)
    {
        switch (delivery.Outcome)
        {
            case Outcome.Delivered:
                _metrics.Delivered(delivery.Duration);
                break;
            case Outcome.FailedTimeout or Outcome.FailedStreamError:
                string reason = ReasonOf(delivery.Outcome);
                _metrics.Failed(reason);
                if (_failureLog.TryAcquire(out long suppressed))
                {
                    Log.EnvelopeFailed(_logger, delivery.Envelope?.Id, delivery.Envelope?.Type, pending.Event.Id, delivery.Attempts, reason, suppressed, delivery.Exception);
                }

                break;
            default:
                _metrics.Dropped(ReasonShutdown, 1);
                if (_dropLog.TryAcquire(out long held))
                {
                    Log.EnvelopeDropped(_logger, delivery.Envelope?.Id, pending.Type, pending.Event.Id, ReasonShutdown, held);
                }

                break;
        }
    }

    private void ReportShed(in Shed shed)
    {
        _metrics.Dropped(ReasonQueueFull, shed.Count);
        for (int i = 0; i < shed.Count; i++)
        {
            if (_dropLog.TryAcquire(out long suppressed))
            {
                PendingEnvelope dropped = shed[i];
                Log.EnvelopeDropped(_logger, EnvelopeIds.Next(dropped.Timestamp), dropped.Type, dropped.Event.Id, ReasonQueueFull, suppressed);
            }
        }
    }

    private void ReportShutdownDrops(PendingEnvelope? first, long count)
    {
        if (count == 0)
        {
            return;
        }

        _metrics.Dropped(ReasonShutdown, count);
        if (first is { } dropped && _dropLog.TryAcquire(out long suppressed))
        {
            Log.EnvelopeDropped(_logger, EnvelopeIds.Next(dropped.Timestamp), dropped.Type, dropped.Event.Id, ReasonShutdown, suppressed + count - 1);
        }
    }

    private const string ReasonQueueFull = "queue_full", ReasonShutdown = "shutdown", ReasonTimeout = "timeout", ReasonStreamError = "stream_error";

    private static string ReasonOf(Outcome outcome) => outcome switch
    {
        Outcome.FailedTimeout => ReasonTimeout,
        Outcome.FailedStreamError => ReasonStreamError,
        Outcome.DroppedShutdown => ReasonShutdown,
        _ => "delivered",
    };

    private enum Outcome : byte
    {
        Delivered,
        FailedTimeout,
        FailedStreamError,
        DroppedShutdown,
    }

    private readonly record struct Attempt(Outcome Outcome, Exception? Exception);

    private readonly record struct Abandoned(PendingEnvelope? FirstDropped, long Dropped);

    /// <summary>Counts of settled envelopes by outcome (queue-full drops are counted at enqueue).</summary>
    private struct Tally
    {
        public long Delivered, FailedTimeout, FailedStreamError, DroppedShutdown;

        public void Add(Outcome outcome)
        {
            switch (outcome)
            {
                case Outcome.Delivered: Delivered++; break;
                case Outcome.FailedTimeout: FailedTimeout++; break;
                case Outcome.FailedStreamError: FailedStreamError++; break;
                default: DroppedShutdown++; break;
            }
        }
    }

    private readonly record struct Delivery(Outcome Outcome, EventEnvelope? Envelope, int Attempts, Exception? Exception, TimeSpan Duration);

    /// <summary>What one publish or change queued: how many envelopes, the last sequence, what it shed, the loop's wake-up.</summary>
    private struct Enqueued
    {
        public int Count;
        public long LastSequence;
        public Shed Shed;
        public TaskCompletionSource? Wakeup;
    }

    /// <summary>The envelopes one publish or change shed (at most two: it queues at most two).</summary>
    private struct Shed
    {
        private PendingEnvelope _first, _second;

        public int Count { get; private set; }

        public readonly PendingEnvelope this[int index] => index == 0 ? _first : _second;

        public void Add(PendingEnvelope item)
        {
            if (Count == 0) _first = item; else _second = item;
            Count++;
        }
    }
}
