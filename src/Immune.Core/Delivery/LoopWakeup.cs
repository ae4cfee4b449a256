using System.Threading.Tasks.Sources;

namespace Immune.Delivery;

/// <summary>
/// The delivery loop's wake-up, one for the pipeline's lifetime rather than a task per idle spell. The loop arms it
/// under the pipeline's lock when it finds nothing to do, and awaits it after; whoever queues next (or the stop) takes
/// it under the same lock, so exactly one caller sets it, once the lock is released. The loop's continuation never runs
/// on the caller's thread.
/// </summary>
internal sealed class LoopWakeup : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private bool _armed; // guarded by the pipeline's lock

    /// <summary>Arms it; the loop awaits the result once. Under the pipeline's lock, after the last wait was consumed.</summary>
    public ValueTask Arm()
    {
        _core.Reset();
        _armed = true;
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Takes it when the loop waits on it, under the pipeline's lock; the taker then calls <see cref="Set"/>.</summary>
    public bool TryTake()
    {
        bool armed = _armed;
        _armed = false;
        return armed;
    }

    /// <summary>Wakes the loop. Only the one whose <see cref="TryTake"/> returned true calls it, once, after the lock.</summary>
    public void Set() => _core.SetResult(true);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
