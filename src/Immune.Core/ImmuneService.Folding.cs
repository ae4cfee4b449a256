using Immune.Delivery;

namespace Immune;

/// <summary>The service's side of storm folding: the timer that reports repeats when their window closes.</summary>
public sealed partial class ImmuneService
{
    /// <summary>The fold timer fired: report the repeats whose window closed, and set it for the next.</summary>
    private void OnFoldTimer()
    {
        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_gate)
            {
                DateTimeOffset now = _timeProvider.GetUtcNow();
                _folder!.Tick(now, ref intake);
                ArmFoldTimerLocked(now);
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

    private void ArmFoldTimerLocked(DateTimeOffset now)
    {
        if (_folder is not null && _folder.TryTakeTimerChange(now, out TimeSpan due))
        {
            _foldTimer!.Change(due, Timeout.InfiniteTimeSpan);
        }
    }
}
