using System.Diagnostics;

namespace Immune.Delivery;

/// <summary>
/// One caller's intake into the pipeline: the envelopes it queues while it holds the service's lock (a publish and its
/// critical event, a severity change, the repeat reports that came due, a block of replayed envelopes), or those a write
/// turn places, and what that did on the way: the loop's wake-up it took, what it shed. <see cref="Dispose"/> announces
/// it once the caller holds no lock: it wakes the loop, counts what was queued, reports what was shed and, with a spool,
/// writes what was handed over. Open one before the locks and dispose it in a <see langword="finally"/> after them, so
/// that nothing queued goes unannounced, even when the caller throws.
/// </summary>
/// <remarks>
/// A <see langword="ref"/> struct: it lives on the caller's stack, allocates nothing and cannot be copied into a field
/// and announced twice. Without a pipeline (a service that publishes nowhere) it queues and announces nothing.
/// </remarks>
internal ref struct DeliveryIntake(IIntakeSink? pipeline)
{
    private readonly IIntakeSink? _pipeline = pipeline;
    private bool _announced;

    /// <summary>Gets how many envelopes this intake queued.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the sequence of the last envelope this intake queued; zero when none.</summary>
    public long LastSequence { get; private set; }

    /// <summary>Gets how many envelopes were shed from the queue (<c>queue_full</c>) on the way.</summary>
    public int ShedCount { get; private set; }

    /// <summary>Gets the first envelope shed from the queue.</summary>
    public PendingEnvelope FirstShed { get; private set; }

    /// <summary>Gets how many envelopes found the spool full (<c>spool_full</c>).</summary>
    public int RefusedCount { get; private set; }

    /// <summary>Gets the first envelope that found the spool full.</summary>
    public PendingEnvelope FirstRefused { get; private set; }

    /// <summary>Gets the loop's wake-up, taken when the loop was idle: set once the caller released its locks.</summary>
    public LoopWakeup? Wakeup { get; private set; }

    /// <summary>
    /// Queues the envelopes of one recorded change: the first, then <c>immune.critical_event</c> when
    /// <paramref name="critical"/>. The caller holds the service's lock.
    /// </summary>
    public void Enqueue(EnvelopeKind kind, ImmuneEvent source, DateTimeOffset timestamp, ImmuneSeverity previous, ActivityTraceId correlation, bool critical)
        => _pipeline?.Enqueue(ref this, kind, source, timestamp, previous, correlation, critical);

    /// <summary>
    /// Announces what this intake did, once (later calls do nothing); what it counted stays readable. The caller holds
    /// no lock.
    /// </summary>
    public void Dispose()
    {
        if (_pipeline is { } pipeline && !_announced)
        {
            _announced = true;
            pipeline.Announce(in this);
        }
    }

    internal void Queued(long sequence)
    {
        Count++;
        LastSequence = sequence;
    }

    internal void Shed(in PendingEnvelope first, int count)
    {
        if (count > 0 && ShedCount == 0)
        {
            FirstShed = first;
        }

        ShedCount += count;
    }

    internal void Refused(in PendingEnvelope item)
    {
        if (RefusedCount++ == 0)
        {
            FirstRefused = item;
        }
    }

    /// <summary>Takes the loop's wake-up, when the loop waits on it, to be set after the locks. Under the pipeline's lock.</summary>
    internal void TakeWakeup(LoopWakeup wakeup)
    {
        if (wakeup.TryTake())
        {
            Wakeup = wakeup;
        }
    }
}
