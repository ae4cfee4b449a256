using System.Diagnostics;
using Immune.Internal;
using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The delivery pipeline: a bounded queue drained in sequence order by one loop that cannot die, exact per-envelope
/// accounting, flush watermarks, and a shutdown that returns even when the stream hangs. It has its own lock, so the
/// service's summaries never wait for delivery; a publisher takes the service's lock, then this one, to queue its
/// envelopes in record order.
/// </summary>
/// <remarks>
/// The loop takes up to <see cref="ImmuneOptions.MaxBatchSize"/> envelopes at a time (<see cref="BatchInHand"/>). A
/// batch stream gets them in one call; a plain stream gets them one by one. Either way the loop settles a whole batch
/// under the lock once; results in between are claimed lock-free, which keeps every stats snapshot exact, and a
/// disposal that gives up meets the loop on one compare-and-swap, so metrics agree with the stats.
/// </remarks>
internal sealed class DeliveryPipeline : IIntakeSink
{
    private readonly DeliverySettings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly DeliveryReporter _reporter;
    private readonly BatchDelivery _delivery;
    private readonly StreamHealth _health;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly Gate _serviceGate;
    private readonly DeliveryLedger _ledger; // everything under the pipeline's lock
    private readonly Gate _gate;
    private readonly IEnvelopeSpool? _spool;
    private readonly SpoolBacklog? _spooled; // with a spool: the backlog, which also replays what a previous service left

    public DeliveryPipeline(IEventStream stream, DeliverySettings settings, string instanceId, TimeProvider timeProvider, DeliveryReporter reporter, Func<double>? jitter = null, IEnvelopeSpool? spool = null, Gate? serviceGate = null)
    {
        _serviceGate = serviceGate ?? new Gate(); // the service's lock, for the lock-order checks (Invariants)
        // One factory: without a spool the loop builds every envelope; with one the write turn does, and the loop gets them built.
        var envelopes = new EnvelopeFactory(settings.Source, instanceId);
        _spool = spool;
        _ledger = new DeliveryLedger(settings.MaxBatchSize, ledger => spool is null
            ? new MemoryBacklog(ledger, settings.QueueCapacity)
            : new SpoolBacklog(this, ledger, spool, envelopes, _serviceGate, timeProvider, reporter, settings.QueueCapacity, settings.MaxBatchSize));
        _gate = _ledger.Gate;
        _spooled = _ledger.Backlog as SpoolBacklog;
        _settings = settings;
        _timeProvider = timeProvider;
        _reporter = reporter;
        _health = new StreamHealth(timeProvider, reporter, () => GetStats().Pending);

        // The loop serves every caller: it must not carry the constructing caller's Activity or AsyncLocals.
        using (ExecutionContext.SuppressFlow())
        {
            _delivery = new BatchDelivery(stream, settings, envelopes, timeProvider, reporter, _health, jitter ?? Random.Shared.NextDouble, _ledger.Batch, _stop.Token);
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Gets the loop, for tests that must see it end.</summary>
    internal Task Loop => _loop;

    /// <summary>Gets the spool's write turn, for tests that stall the disk; <see langword="null"/> without a spool.</summary>
    internal object? SpoolWriteTurn => _spooled?.Turn;

    public int QueueLength
    {
        get { lock (_gate) { return _ledger.Backlog.InMemory; } }
    }

    /// <summary>Gets how long ago the oldest pending envelope (in hand or queued) was queued; zero when none is pending.</summary>
    public TimeSpan OldestPendingAge
    {
        get
        {
            long queuedAt;
            lock (_gate)
            {
                if (!_ledger.TryPeekOldestQueuedAt(out queuedAt))
                {
                    return TimeSpan.Zero;
                }
            }

            return _timeProvider.GetElapsedTime(queuedAt);
        }
    }

    /// <summary>
    /// Queues the envelopes of one publish or change: the first, then <c>immune.critical_event</c> when it makes the event
    /// CRITICAL. The caller holds the service's lock, which makes sequence order equal record order.
    /// </summary>
    public void Enqueue(ref DeliveryIntake intake, EnvelopeKind kind, ImmuneEvent source, DateTimeOffset timestamp, ImmuneSeverity previous, ActivityTraceId correlation, bool critical)
    {
        Invariants.Held(_serviceGate, "the service's lock (sequence order is record order)");
        lock (_gate)
        {
            long queuedAt = _timeProvider.GetTimestamp(); // under the lock: queue times grow with sequences, so deadlines do too
            var first = new PendingEnvelope(_ledger.NextSequence(), kind, source, timestamp, previous, correlation) { QueuedAt = queuedAt, Leads = critical };
            if (critical)
            {
                _ledger.Admit(first, new PendingEnvelope(_ledger.NextSequence(), EnvelopeKind.CriticalEvent, source, timestamp, default, correlation) { QueuedAt = queuedAt }, ref intake);
            }
            else
            {
                _ledger.Admit(first, ref intake);
            }

            intake.TakeWakeup(_ledger.Wakeup);
        }
    }

    /// <summary>
    /// Runs once the caller's intake is announced: with <see cref="ImmuneOptions.SpoolSyncInterval"/> zero, waits until
    /// its envelopes are on the disk; in inline mode, until they are settled.
    /// </summary>
    public ValueTask<T> AfterIntake<T>(T result, long lastSequence, CancellationToken cancellationToken)
    {
        if (lastSequence == 0)
        {
            return new ValueTask<T>(result); // nothing was queued
        }

        if (_spool is { SyncsEveryWrite: true })
        {
            // On the disk itself before the publish completes: one fsync shared by concurrent publishers, which wait for
            // it without a thread. Not cut short by the token: the promise is the disk's.
            ValueTask durable = _spool.WaitDurableAsync(lastSequence);
            if (!durable.IsCompletedSuccessfully)
            {
                return WaitDurableAsync(durable, result, lastSequence, cancellationToken);
            }
        }

        return WaitSettledIfInline(result, lastSequence, cancellationToken);
    }

    private async ValueTask<T> WaitDurableAsync<T>(ValueTask durable, T result, long lastSequence, CancellationToken cancellationToken)
    {
        await durable.ConfigureAwait(false);
        return await WaitSettledIfInline(result, lastSequence, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<T> WaitSettledIfInline<T>(T result, long lastSequence, CancellationToken cancellationToken)
        => _settings.Inline
            ? WaitInlineAsync(result, lastSequence, cancellationToken)
            : new ValueTask<T>(result);

    /// <summary>
    /// Announces an intake (see <see cref="DeliveryIntake.Dispose"/>) once the caller released its locks: wakes the loop,
    /// reports what was queued and shed, and with a spool writes what was handed over, through the intake's last
    /// envelope at least.
    /// </summary>
    public void Announce(in DeliveryIntake intake)
    {
        Invariants.NotHeld(_serviceGate, "the service's lock (what follows may write to disk)");
        Invariants.NotHeld(_gate, "the pipeline's lock");
        intake.Wakeup?.Set();
        if (intake.Count > 0)
        {
            _reporter.Queued(intake.Count);
        }

        _reporter.Dropped(intake.FirstRefused, intake.RefusedCount, Reasons.SpoolFull);
        _reporter.Dropped(intake.FirstShed, intake.ShedCount, Reasons.QueueFull);
        if (intake.Count > 0)
        {
            _ledger.Backlog.Commit(intake.LastSequence);
        }
    }

    /// <summary>Completes when every envelope queued before the call is delivered, failed or dropped (not merely dequeued).</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        Task settled;
        lock (_gate)
        {
            settled = _ledger.WaitForSettled(_ledger.LastSequence);
        }

        return cancellationToken.CanBeCanceled ? settled.WaitAsync(cancellationToken) : settled;
    }

    public ImmuneDeliveryStats GetStats()
    {
        lock (_gate)
        {
            return _ledger.Stats(_health.FailingSince);
        }
    }

    /// <summary>Gets the sequence through which every envelope is settled: what the spool may forget, unless it was frozen.</summary>
    public long SettledThrough()
    {
        lock (_gate) { return _ledger.SettledThrough(); }
    }

    /// <summary>Replays what a previous service left in the spool, before anything new (see <see cref="SpoolBacklog.ReplayFromSpool"/>).</summary>
    public void ReplayFromSpool() => _spooled!.ReplayFromSpool();

    private async ValueTask<T> WaitInlineAsync<T>(T result, long lastSequence, CancellationToken cancellationToken)
    {
        Task settled;
        lock (_gate)
        {
            settled = _ledger.WaitForSettled(lastSequence);
        }

        try
        {
            await settled.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The event is recorded and its envelopes stay queued; the caller only stopped waiting.
        }

        return result;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            int count = 0;
            ValueTask? idle = null;
            lock (_gate)
            {
                if (_ledger.Abandoned)
                {
                    return; // disposal settled and reported the batch in hand
                }

                // Settle the batch just delivered and take the next under one acquisition of the lock.
                _ledger.Batch.Settle(ref _ledger.Settled);
                _ledger.CheckBalanced();
                if (_stop.IsCancellationRequested)
                {
                    break;
                }

                count = _ledger.Backlog.Take(_ledger.Batch); // -1: the next wait on disk, read back below, outside the lock
                if (count == 0 && _ledger.Stopping && !_ledger.Backlog.Uncommitted)
                {
                    _ledger.ReleaseWaiters();
                    return; // drained
                }

                if (count == 0)
                {
                    idle = _ledger.Wakeup.Arm();
                }

                _ledger.ReleaseWaiters();
            }

            if (count < 0 && (count = _ledger.Backlog.Read(_ledger.Batch)) < 0)
            {
                return; // disposal gave up meanwhile and counted what waited
            }

            if (idle is { } wait)
            {
                await wait.ConfigureAwait(false);
                continue;
            }

            try
            {
                if (!await _delivery.DeliverAsync(count).ConfigureAwait(false))
                {
                    return; // disposal gave up on the rest of this batch and counted it
                }
            }
            catch (Exception exception)
            {
                // Nothing in delivery should throw; if it does, what is in hand fails and the loop lives on.
                _reporter.LoopFault(exception);
                var failed = new Settlement(Outcome.FailedStreamError, 0, exception, TimeSpan.Zero);
                if (!_ledger.Batch.TryClaimRest(failed, out PendingEnvelope first, out int rest))
                {
                    return;
                }

                if (rest > 0)
                {
                    _reporter.Settled(first, rest, null, failed);
                }
            }
        }

        AbandonAndReport(); // the stop came between batches
    }

    /// <summary>Stops intake (the service stopped calling <see cref="Enqueue"/>), drains within the shutdown timeout, drops the rest.</summary>
    public async Task StopAsync()
    {
        bool wake;
        lock (_gate)
        {
            _ledger.Stopping = true;
            wake = _ledger.Wakeup.TryTake();
        }

        if (wake)
        {
            _ledger.Wakeup.Set();
        }

        if (!await DrainedWithinAsync(_settings.ShutdownTimeout).ConfigureAwait(false))
        {
            // Out of time: stop the call in flight and count everything still pending as dropped. The spool keeps it
            // all: its progress stops here, before the loop or this method settle anything as dropped.
            lock (_gate) { _spool?.Freeze(_ledger.SettledThrough()); }

            await _stop.CancelAsync().ConfigureAwait(false);
            AbandonAndReport();
        }

        _reporter.Stopped(GetStats());
        _delivery.Dispose();
    }

    private async Task<bool> DrainedWithinAsync(TimeSpan timeout)
    {
        try
        {
            await _loop.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Gives up on everything pending: results the loop claimed count as they are (the loop reports them), the rest of
    /// its batch and the whole queue count as dropped (shutdown) and are reported here. Idempotent.
    /// </summary>
    private void AbandonAndReport()
    {
        PendingEnvelope first;
        long count;
        lock (_gate)
        {
            count = _ledger.Abandon(out first);
        }

        _reporter.Dropped(first, count, Reasons.Shutdown);
    }
}
