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
internal sealed partial class DeliveryPipeline
{
    private readonly ImmuneOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly DeliveryReporter _reporter;
    private readonly BatchDelivery _delivery;
    private readonly StreamHealth _health;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    // Guarded by _gate. Every envelope gets the next sequence when queued and is settled exactly once.
    private readonly Gate _gate = new();
    private readonly Gate _serviceGate;
    private readonly DeliveryQueue _queue;
    private readonly SettlementWaiters _waiters = new();
    private readonly BatchInHand _batch;
    private readonly IEnvelopeSpool? _spool;
    private readonly SpoolHandOff? _handOff; // with a spool: queued, and waiting to be written to it and placed
    private readonly DiskBacklog? _onDisk; // with a spool: the envelopes waiting there only, beyond QueueCapacity
    private long _lastSequence;
    private DeliveryTally _settled;
    private bool _abandoned;
    private bool _stopping;
    private readonly LoopWakeup _wakeup = new();

    public DeliveryPipeline(IEventStream stream, ImmuneOptions options, string instanceId, TimeProvider timeProvider, DeliveryReporter reporter, Func<double>? jitter = null, IEnvelopeSpool? spool = null, Gate? serviceGate = null)
    {
        _serviceGate = serviceGate ?? new Gate(); // the service's lock, for the lock-order checks (Invariants)
        // One factory: without a spool the loop builds every envelope; with one the write turn does, and the loop gets them built.
        var envelopes = new EnvelopeFactory(options.Source, instanceId);
        _spool = spool;
        _handOff = spool is null ? null : new SpoolHandOff(spool, envelopes);
        _onDisk = spool is null ? null : new DiskBacklog(spool);
        _options = options;
        _timeProvider = timeProvider;
        _reporter = reporter;
        _queue = new DeliveryQueue(options.QueueCapacity);
        _batch = new BatchInHand(options.MaxBatchSize);
        _health = new StreamHealth(timeProvider, reporter, () => GetStats().Pending);

        // The loop serves every caller: it must not carry the constructing caller's Activity or AsyncLocals.
        using (ExecutionContext.SuppressFlow())
        {
            _delivery = new BatchDelivery(stream, options, envelopes, timeProvider, reporter, _health, jitter ?? Random.Shared.NextDouble, _batch, _stop.Token);
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Gets the loop, for tests that must see it end.</summary>
    internal Task Loop => _loop;

    /// <summary>Gets the spool's write turn, for tests that stall the disk; <see langword="null"/> without a spool.</summary>
    internal object? SpoolWriteTurn => _handOff?.Turn;

    public int QueueLength
    {
        get { lock (_gate) { return _queue.Count; } }
    }

    /// <summary>Gets how long ago the oldest pending envelope (in hand or queued) was queued; zero when none is pending.</summary>
    public TimeSpan OldestPendingAge
    {
        get
        {
            long queuedAt;
            lock (_gate)
            {
                if (_batch.TryPeekUnclaimed(out PendingEnvelope oldest) || (!NextIsOnDiskLocked() && _queue.TryPeek(out oldest)))
                {
                    queuedAt = oldest.QueuedAt;
                }
                else if (_onDisk is not null && _onDisk.TryPeekQueuedAt(out long onDiskAt))
                {
                    queuedAt = onDiskAt;
                }
                else if (_handOff is not null && _handOff.TryPeek(out oldest))
                {
                    queuedAt = oldest.QueuedAt;
                }
                else
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
            var first = new PendingEnvelope(++_lastSequence, kind, source, timestamp, previous, correlation) { QueuedAt = queuedAt, Leads = critical };
            if (critical)
            {
                EnqueueLocked(first, new PendingEnvelope(++_lastSequence, EnvelopeKind.CriticalEvent, source, timestamp, default, correlation) { QueuedAt = queuedAt }, ref intake);
            }
            else
            {
                EnqueueLocked(first, ref intake);
            }

            intake.TakeWakeup(_wakeup);
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
        => _options.Delivery == ImmuneDelivery.Inline
            ? WaitInlineAsync(result, lastSequence, cancellationToken)
            : new ValueTask<T>(result);

    /// <summary>
    /// Announces an intake (see <see cref="DeliveryIntake.Dispose"/>) once the caller released its locks: wakes the loop,
    /// reports what was queued and shed, and with a spool writes what was handed over, through the intake's last
    /// envelope at least.
    /// </summary>
    internal void Announce(in DeliveryIntake intake)
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
        if (_handOff is not null && intake.Count > 0)
        {
            WriteHandedOff(intake.LastSequence);
        }
    }

    /// <summary>Completes when every envelope queued before the call is delivered, failed or dropped (not merely dequeued).</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        Task settled;
        lock (_gate)
        {
            settled = WaitForSettledLocked(_lastSequence);
        }

        return cancellationToken.CanBeCanceled ? settled.WaitAsync(cancellationToken) : settled;
    }

    public ImmuneDeliveryStats GetStats()
    {
        lock (_gate)
        {
            return StatsLocked();
        }
    }

    private ImmuneDeliveryStats StatsLocked()
    {
        DeliveryTally tally = _settled;
        int claimed = _batch.CountClaimed(ref tally);
        return tally.ToStats(_lastSequence, _queue.Count + (_batch.Count - claimed) + (_onDisk?.Count ?? 0) + (_handOff?.Count ?? 0), _health.FailingSince);
    }

    /// <summary>Gets the sequence through which every envelope is settled: what the spool may forget, unless it was frozen.</summary>
    public long SettledThrough()
    {
        lock (_gate) { return SettledThroughLocked(); }
    }

    private void EnqueueLocked(in PendingEnvelope item, ref DeliveryIntake intake)
    {
        Invariants.Held(_gate, "the pipeline's lock");
        intake.Queued(item.Sequence);
        if (_handOff is not null)
        {
            _handOff.Add(item); // written and placed by a write turn, once the caller holds no lock
        }
        else
        {
            ShedLocked(_queue.Enqueue(item, out PendingEnvelope shed), shed, ref intake);
        }
    }

    /// <summary>Queues a CRITICAL publish's two envelopes, admitted (or shed) together.</summary>
    private void EnqueueLocked(in PendingEnvelope lead, in PendingEnvelope follower, ref DeliveryIntake intake)
    {
        Invariants.Held(_gate, "the pipeline's lock");
        intake.Queued(lead.Sequence);
        intake.Queued(follower.Sequence);
        if (_handOff is not null)
        {
            _handOff.Add(lead);
            _handOff.Add(follower);
        }
        else
        {
            ShedLocked(_queue.Enqueue(lead, follower, out PendingEnvelope shed), shed, ref intake);
        }
    }

    /// <summary>Counts what the memory queue shed to admit a publish (<c>queue_full</c>).</summary>
    private void ShedLocked(int count, in PendingEnvelope first, ref DeliveryIntake intake)
    {
        if (count > 0)
        {
            _settled.DroppedQueueFull += count;
            intake.Shed(first, count);
            CompleteWaitersLocked();
        }
    }

    private async ValueTask<T> WaitInlineAsync<T>(T result, long lastSequence, CancellationToken cancellationToken)
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

        return result;
    }

    private Task WaitForSettledLocked(long sequence) => _waiters.WaitFor(sequence, SettledThroughLocked());

    /// <summary>
    /// The highest sequence up to which every envelope is settled. The loop takes envelopes in sequence order, a batch
    /// at a time, so everything before its batch (or before the oldest waiting) is settled or was shed.
    /// </summary>
    private long SettledThroughLocked()
    {
        Invariants.Held(_gate, "the pipeline's lock");
        return _batch.Count > 0 ? _batch[0].Sequence - 1
            : Math.Min(Math.Min(_queue.OldestSequence ?? long.MaxValue, _onDisk?.OldestSequence ?? long.MaxValue), _handOff?.OldestSequence ?? long.MaxValue) is long oldest && oldest != long.MaxValue ? oldest - 1
            : _lastSequence;
    }

    private void CompleteWaitersLocked() => _waiters.Release(SettledThroughLocked());

    private async Task RunAsync()
    {
        while (true)
        {
            int count = 0;
            ValueTask? idle = null;
            lock (_gate)
            {
                if (_abandoned)
                {
                    return; // disposal settled and reported the batch in hand
                }

                // Settle the batch just delivered and take the next under one acquisition of the lock.
                _batch.Settle(ref _settled);
                if (Invariants.Checked)
                {
                    Invariants.Balanced(StatsLocked());
                }
                if (_stop.IsCancellationRequested)
                {
                    break;
                }

                bool fromDisk = NextIsOnDiskLocked();
                count = fromDisk ? 0 : _batch.Take(_queue, _onDisk?.OldestSequence ?? long.MaxValue); // never past what waits on disk
                if (fromDisk)
                {
                    idle = null;
                    count = -1; // read back below, outside the lock
                }
                else if (count == 0 && _stopping && (_handOff?.Count ?? 0) == 0)
                {
                    CompleteWaitersLocked();
                    return; // drained
                }

                if (count == 0)
                {
                    idle = _wakeup.Arm();
                }

                CompleteWaitersLocked();
            }

            if (count < 0 && (count = TakeFromDisk()) < 0)
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
                if (!_batch.TryClaimRest(failed, out PendingEnvelope first, out int rest))
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
}
