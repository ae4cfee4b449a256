namespace Immune.Samples.Consumer;

/// <summary>Something the consumer host runs for its whole life: the group's consumer, or the fleet feed, of either broker.</summary>
public interface IConsumerLoop
{
    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; failures are logged and retried, never thrown.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>The loop every consumer and feed runs: a step at a time; a passing failure is logged and retried; a step that found nothing waits the poll interval.</summary>
internal static class ConsumerLoop
{
    public static async Task RunAsync(Func<CancellationToken, Task<int>> step, Func<Exception, bool> passing, Action<Exception> failed, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            int done;
            try
            {
                done = await step(cancellationToken);
            }
            catch (Exception exception) when (passing(exception) && !cancellationToken.IsCancellationRequested)
            {
                failed(exception);
                done = 0;
            }

            if (done == 0)
            {
                await Task.Delay(pollInterval, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }
}
