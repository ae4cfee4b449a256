using Immune.Delivery;

namespace Immune.Spool;

/// <summary>
/// The spool's one entry point: opens and locks the directory, replays what a previous owner left, writes envelopes
/// (logging once if the disk gives up), syncs on a timer of the service's <see cref="TimeProvider"/> (forces the files
/// to the disk at least every <see cref="ImmuneOptions.SpoolSyncInterval"/>, records what the pipeline settled and
/// deletes settled segments), and at the end syncs a last time and releases the directory.
/// </summary>
internal sealed class EnvelopeSpool : IEnvelopeSpool, IDisposable
{
    private readonly DurableSpool _files;
    private readonly DeliveryReporter _reporter;
    private readonly string _directory;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _timeProvider;
    private readonly Gate _syncGate = new();
    private Func<long> _settledThrough = static () => 0;
    private ITimer? _timer;
    private long _frozen = long.MaxValue;
    private int _toldUnavailable;
    private bool _stopped;

    private EnvelopeSpool(DurableSpool files, DeliveryReporter reporter, string directory, TimeSpan interval, TimeProvider timeProvider)
        => (_files, _reporter, _directory, _interval, _timeProvider) = (files, reporter, directory, interval, timeProvider);

    /// <summary>Opens the spool of <paramref name="options"/>, or returns null when it names no directory.</summary>
    /// <exception cref="InvalidOperationException">Another service owns the directory.</exception>
    public static EnvelopeSpool? Open(ImmuneOptions options, DeliveryReporter reporter, TimeProvider timeProvider)
        => options.SpoolDirectory is { } directory
            ? new EnvelopeSpool(DurableSpool.Open(directory, options.SpoolCapacityBytes, syncEveryWrite: options.SpoolSyncInterval == TimeSpan.Zero), reporter, directory, options.SpoolSyncInterval, timeProvider)
            : null;

    public bool SyncsEveryWrite => _files.SyncsEveryWrite;

    /// <summary>Gets the last sequence forced to the disk and how many fsyncs that took, for tests of durability and group commit.</summary>
    internal (long DurableThrough, long Forced, long WrittenThrough) Durability => (_files.Turn.DurableThrough, _files.Turn.Forced, _files.WrittenThrough);

    /// <summary>Takes the forcing turn until disposed, as a slow fsync would: for tests of group commit.</summary>
    internal IDisposable HoldForcing() => _files.Turn.Hold();

    public bool Unavailable => _files.Unavailable;

    public void Recover(Action<EventEnvelope> replay)
    {
        SpoolRecovery recovery = _files.Recover(replay);
        _reporter.Recovered(_directory, recovery.Replayed, recovery.DamagedRegions, recovery.MovedAside);
    }

    /// <summary>
    /// Syncs once (replayed envelopes, written again, reach the disk and their old files go) and starts the timer. From
    /// then on, each sync forgets what <paramref name="settledThrough"/> says is settled.
    /// </summary>
    public void StartSyncing(Func<long> settledThrough)
    {
        _settledThrough = settledThrough;
        Sync();
        TimeSpan period = _interval > TimeSpan.Zero ? _interval : TimeSpan.FromSeconds(1);
        using (ExecutionContext.SuppressFlow())
        {
            _timer = _timeProvider.CreateTimer(static state => ((EnvelopeSpool)state!).Sync(), this, period, period);
        }
    }

    public SpoolWrite Write(in PendingEnvelope item, long settledThrough)
    {
        SpoolWrite written = _files.Append(item.Sequence, item.Built!, item.IsCritical, settledThrough);
        if (written == SpoolWrite.Unavailable)
        {
            TellUnavailable();
        }

        return written;
    }

    public (SpoolWrite Lead, SpoolWrite Follower) WritePair(in PendingEnvelope lead, in PendingEnvelope follower, long settledThrough)
    {
        (SpoolWrite, SpoolWrite) written = _files.AppendPair(lead.Sequence, lead.Built!, follower.Sequence, follower.Built!, settledThrough);
        if (written.Item1 == SpoolWrite.Unavailable || written.Item2 == SpoolWrite.Unavailable)
        {
            TellUnavailable();
        }

        return written;
    }

    public async ValueTask WaitDurableAsync(long sequence)
    {
        if (!_files.Unavailable && !await _files.WaitDurableAsync(sequence).ConfigureAwait(false))
        {
            TellUnavailable();
        }
    }

    public bool Read(long fromSequence, int max, List<(long Sequence, EventEnvelope Envelope)> into)
    {
        if (_files.Read(fromSequence, max, into))
        {
            return true;
        }

        TellUnavailable();
        return false;
    }

    public void Freeze(long settledThrough) => Volatile.Write(ref _frozen, settledThrough);

    /// <summary>Syncs now. Runs on the timer, outside every lock of the pipeline's.</summary>
    internal void Sync()
    {
        lock (_syncGate)
        {
            try
            {
                // Read the pipeline first: a freeze it made before settling the rest as dropped is then visible here.
                long through = Math.Min(_settledThrough(), Volatile.Read(ref _frozen));
                if (!_stopped && !_files.Sync(through))
                {
                    TellUnavailable();
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
        Sync();
        Dispose();
    }

    /// <summary>Closes the files and frees the directory, without a last sync (a service that failed to start).</summary>
    public void Dispose()
    {
        lock (_syncGate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _timer?.Dispose();
            _files.Dispose();
        }
    }

    /// <summary>Logs once that the spool gave up.</summary>
    private void TellUnavailable()
    {
        if (Interlocked.Exchange(ref _toldUnavailable, 1) == 0)
        {
            _reporter.SpoolUnavailable(_directory);
        }
    }
}
