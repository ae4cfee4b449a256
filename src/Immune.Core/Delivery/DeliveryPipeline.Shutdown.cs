using Immune.Internal;

namespace Immune.Delivery;

/// <summary>
/// The pipeline's shutdown: stop intake, drain within the shutdown timeout, and otherwise give up on what is pending,
/// counted as dropped (<c>shutdown</c>) exactly once, with the spool frozen first so that it keeps all of it.
/// </summary>
internal sealed partial class DeliveryPipeline
{
    /// <summary>Stops intake (the service stopped calling <see cref="Enqueue"/>), drains within the shutdown timeout, drops the rest.</summary>
    public async Task StopAsync()
    {
        bool wake;
        lock (_gate)
        {
            _stopping = true;
            wake = _wakeup.TryTake();
        }

        if (wake)
        {
            _wakeup.Set();
        }

        if (!await DrainedWithinAsync(_options.ShutdownTimeout).ConfigureAwait(false))
        {
            // Out of time: stop the call in flight and count everything still pending as dropped. The spool keeps it
            // all: its progress stops here, before the loop or this method settle anything as dropped.
            lock (_gate) { _spool?.Freeze(SettledThroughLocked()); }

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
        PendingEnvelope first = default;
        long count = 0;
        lock (_gate)
        {
            if (_abandoned)
            {
                return;
            }

            count = _batch.Abandon(ref _settled, out first);
            while (_queue.TryDequeue(out PendingEnvelope item))
            {
                first = count == 0 ? item : first;
                count++;
            }

            count += _onDisk?.Clear() ?? 0; // they stay in the spool: the next service on the directory delivers them
            if (_handOff?.Clear(out PendingEnvelope handedOff) is int unwritten and > 0)
            {
                first = count == 0 ? handedOff : first;
                count += unwritten; // a write turn under way still spools them: the next service delivers them
            }

            _settled.DroppedShutdown += count;
            _abandoned = true;
            CompleteWaitersLocked();
        }

        _reporter.Dropped(first, count, Reasons.Shutdown);
    }
}
