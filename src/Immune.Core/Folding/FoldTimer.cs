using Immune.Delivery;
using Immune.Internal;

namespace Immune.Folding;

/// <summary>
/// Storm folding on the service's clock: the <see cref="StormFolder"/> and the timer that reports repeats when their
/// window closes. Every member but the timer's callback runs under the service's lock; the callback takes it.
/// </summary>
internal sealed class FoldTimer
{
    private readonly Gate _serviceGate;
    private readonly DeliveryPipeline? _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _timer;

    public FoldTimer(StormFolder folder, Gate serviceGate, DeliveryPipeline? pipeline, TimeProvider timeProvider)
    {
        (Folder, _serviceGate, _pipeline, _timeProvider) = (folder, serviceGate, pipeline, timeProvider);
        using (ExecutionContext.SuppressFlow()) // the timer's callbacks must not run in the ExecutionContext of whoever built the service
        {
            _timer = timeProvider.CreateTimer(static state => ((FoldTimer)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets the folder.</summary>
    public StormFolder Folder { get; }

    /// <summary>Folds the publish (see <see cref="StormFolder.FoldOrOpen"/>), and sets the timer for the next window to close.</summary>
    public long FoldOrOpen(NewImmuneEvent newEvent, DateTimeOffset now, DateTimeOffset createdAt, ref DeliveryIntake reports)
    {
        long folded = Folder.FoldOrOpen(newEvent, now, createdAt, ref reports);
        ArmLocked(now);
        return folded;
    }

    /// <summary>Queues the pending repeat reports and stops the timer: the service is being disposed.</summary>
    public void Stop(DateTimeOffset now, ref DeliveryIntake reports)
    {
        Folder.Stop(now, ref reports);
        _timer.Dispose();
    }

    /// <summary>The timer fired: report the repeats whose window closed, and set it for the next.</summary>
    private void OnTimer()
    {
        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_serviceGate)
            {
                DateTimeOffset now = _timeProvider.GetUtcNow();
                Folder.Tick(now, ref intake);
                ArmLocked(now);
            }
        }
        catch (Exception)
        {
            // Nothing here is expected to throw (the pipeline guards its own reporting); a timer callback that threw
            // would end the process, so a failure only loses this tick: the next publish reports what is due.
        }
        finally
        {
            intake.Dispose();
        }
    }

    private void ArmLocked(DateTimeOffset now)
    {
        if (Folder.TryTakeTimerChange(now, out TimeSpan due))
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }
}
