namespace Immune.Internal;

/// <summary>
/// Background work that runs at most once per interval and one run at a time: a caller that finds it due starts it and
/// never waits for it. A run that fails is observed (never unobserved) and the work waits for the next interval.
/// </summary>
internal sealed class DueWork(TimeSpan interval, TimeProvider timeProvider)
{
    private long _last; // when the last run started (a timestamp); 0 before the first
    private int _running;

    /// <summary>Starts <paramref name="run"/> when a run is due and none is running; never waits for it.</summary>
    public void IfDue<TState>(TState state, Func<TState, Task> run)
    {
        long last = Volatile.Read(ref _last);
        if (last != 0 && timeProvider.GetElapsedTime(last) < interval)
        {
            return;
        }

        if (Interlocked.Exchange(ref _running, 1) == 0)
        {
            Volatile.Write(ref _last, Math.Max(1, timeProvider.GetTimestamp()));
            Task running;
            try
            {
                running = run(state);
            }
            catch (Exception exception)
            {
                running = Task.FromException(exception); // a run that throws before its first await waits like one that fails later
            }

            _ = running.ContinueWith(static (t, self) =>
            {
                _ = t.Exception; // observed: a failed run waits for the next interval
                Volatile.Write(ref ((DueWork)self!)._running, 0);
            }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
