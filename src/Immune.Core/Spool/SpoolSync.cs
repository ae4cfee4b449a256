using Immune.Delivery;

namespace Immune.Spool;

/// <summary>
/// Every <see cref="ImmuneOptions.SpoolSyncInterval"/> (at least every second for progress), forces the spool to the
/// disk, records what the pipeline settled and deletes settled segments; at disposal, does it a last time and
/// releases the directory. Runs on the service's <see cref="TimeProvider"/>, outside the pipeline's lock.
/// </summary>
internal sealed class SpoolSync
{
    private readonly SpoolWriter _writer;
    private readonly DeliveryPipeline _pipeline;
    private readonly ITimer _timer;
    private readonly Gate _gate = new();
    private bool _stopped;

    public SpoolSync(SpoolWriter writer, DeliveryPipeline pipeline, TimeProvider timeProvider, TimeSpan interval)
    {
        _writer = writer;
        _pipeline = pipeline;
        TimeSpan period = interval > TimeSpan.Zero ? interval : TimeSpan.FromSeconds(1);
        using (ExecutionContext.SuppressFlow())
        {
            _timer = timeProvider.CreateTimer(static state => ((SpoolSync)state!).Tick(), this, period, period);
        }
    }

    /// <summary>Syncs now: replayed envelopes are on the disk and the files they came from are gone when it returns.</summary>
    public void Tick()
    {
        lock (_gate)
        {
            try
            {
                if (!_stopped && !_writer.Spool.Sync(_pipeline.SpoolSettledThrough()))
                {
                    _writer.TellUnavailable();
                }
            }
            catch (Exception)
            {
                // Sync turns disk faults into "unavailable"; anything else must not end the process from a timer
                // callback. The next tick tries again.
            }
        }
    }

    /// <summary>The last sync, after the pipeline stopped; then the spool closes and its directory is free.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _timer.Dispose();
            _writer.Spool.Sync(_pipeline.SpoolSettledThrough());
            _writer.Spool.Dispose();
        }
    }
}
