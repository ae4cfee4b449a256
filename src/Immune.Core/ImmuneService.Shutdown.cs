using Immune.Delivery;

namespace Immune;

/// <summary>The service's disposal: the pending repeat reports first, then the pipeline's drain, the spool, the meter.</summary>
public sealed partial class ImmuneService
{
    /// <summary>
    /// Publishes the pending <c>immune.event_repeated</c> reports, stops intake, drains the queue within <see cref="ImmuneOptions.ShutdownTimeout"/>, counts what remains as dropped
    /// (reason shutdown) and logs a summary. Returns even when the stream hangs. Idempotent: later calls return the same task.
    /// </summary>
    /// <returns>A task that completes when the service has stopped.</returns>
    public ValueTask DisposeAsync()
    {
        DeliveryIntake intake = new(_pipeline);
        try
        {
            lock (_gate)
            {
                if (_disposed is not null)
                {
                    return new ValueTask(_disposed.Task);
                }

                _disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _folder?.Stop(_timeProvider.GetUtcNow(), ref intake); // the pending repeat reports go out before the queue drains
                _foldTimer?.Dispose();
            }
        }
        finally
        {
            intake.Dispose();
        }

        return new ValueTask(DisposeCoreAsync());
    }

    /// <summary>Disposes synchronously: see <see cref="DisposeAsync"/>. Blocks for at most the shutdown timeout.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task DisposeCoreAsync()
    {
        try
        {
            if (_pipeline is not null)
            {
                await _pipeline.StopAsync().ConfigureAwait(false);
            }

            _spool?.Stop();
        }
        finally
        {
            _metrics.Dispose();
            _disposed!.TrySetResult();
        }
    }
}
