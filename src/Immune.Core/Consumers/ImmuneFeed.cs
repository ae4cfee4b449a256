using Immune.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune;

/// <summary>
/// A loop that reads envelopes from a broker for the people who watch the fleet: the fleet feed that keeps an
/// <see cref="ImmuneFleetView"/> current, or a consumer group's reader that pages on-call. It never ends on an exception:
/// a failed read is logged (once when the feed starts failing, then at most once a minute, and once when it recovers),
/// backed off (doubling from the poll interval to 30 seconds) and tried again, and the trouble shows in
/// <see cref="GetStatus"/>. Only the cancellation of <see cref="RunAsync"/>'s token ends it.
/// </summary>
/// <remarks>
/// Derive from it for a broker: <see cref="ReadAsync"/> reads once and handles what it read. The broker packages
/// (Immune.Redis, Immune.Nats) do; the fleet host (Immune.Fleet.AspNetCore) runs every feed registered and reports them.
/// </remarks>
public abstract class ImmuneFeed
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly ILogger _logger;
    private readonly TimeSpan _pollInterval;
    private readonly Gate _gate = new();
    private DateTimeOffset? _lastReadAt;
    private DateTimeOffset? _failingSince;
    private long _failingFrom;
    private long _failures;
    private string? _lastError;
    private long? _lag;
    private long? _pending;
    private long _lost;
    private long _read;
    private long _nextFailureLog;
    private int _running;

    /// <summary>Creates a feed.</summary>
    /// <param name="name">Its name in logs, health and metrics. Must not be null or empty.</param>
    /// <param name="pollInterval">How long to wait after a read that found nothing new. Greater than zero.</param>
    /// <param name="logger">The logger; null for none.</param>
    /// <param name="timeProvider">The clock and timers; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pollInterval"/> is not greater than zero.</exception>
    protected ImmuneFeed(string name, TimeSpan pollInterval, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        Name = name;
        _pollInterval = pollInterval;
        _logger = logger ?? NullLogger.Instance;
        TimeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the feed's name.</summary>
    public string Name { get; }

    /// <summary>Gets the feed's clock.</summary>
    protected TimeProvider TimeProvider { get; }

    /// <summary>Gets how the feed is doing now.</summary>
    /// <returns>A snapshot.</returns>
    public ImmuneFeedStatus GetStatus()
    {
        lock (_gate)
        {
            return new ImmuneFeedStatus
            {
                Name = Name,
                LastReadAt = _lastReadAt,
                Read = _read,
                FailingSince = _failingSince,
                Failures = _failures,
                LastError = _lastError,
                Lag = _lag,
                Pending = _pending,
                Lost = _lost,
            };
        }
    }

    /// <summary>
    /// Reads until <paramref name="cancellationToken"/> is cancelled: what a read finds is handled at once, a read that
    /// found nothing new waits the poll interval, and a failed read backs off and goes on.
    /// </summary>
    /// <param name="cancellationToken">Ends the loop.</param>
    /// <returns>A task that completes when the loop ended; it never faults.</returns>
    /// <exception cref="InvalidOperationException">The feed is running already.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"The feed {Name} is running already.");
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan wait;
                try
                {
                    int read = await ReadAsync(cancellationToken).ConfigureAwait(false);
                    Succeeded(read);
                    wait = read > 0 ? TimeSpan.Zero : _pollInterval;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception exception)
                {
                    wait = Failed(exception);
                }

                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, TimeProvider, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            try
            {
                await StoppedAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                _ = Failed(exception); // logged and counted; what the feed held (a lease) runs out by itself
            }

            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Called once when <see cref="RunAsync"/> ends, to give back what the feed holds at the broker (a lease on a
    /// shard) so others take it at once rather than when it runs out. An exception is logged and counted as a failure.
    /// </summary>
    /// <returns>A task that completes when it is given back.</returns>
    protected virtual Task StoppedAsync() => Task.CompletedTask;

    /// <summary>Reads once from the broker and handles what it read (applies it, pages, acknowledges).</summary>
    /// <param name="cancellationToken">Cancelled when the feed stops.</param>
    /// <returns>How many entries it read; 0 makes the feed wait its poll interval before the next read.</returns>
    /// <remarks>Throw when the broker cannot be read or what was read cannot be handled: the feed backs off and reads again.</remarks>
    protected abstract ValueTask<int> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Records that the broker answered a read now, before what it gave is handled: <see cref="ImmuneFeedStatus.LastReadAt"/>
    /// says how fresh the feed's view of the broker is even while handling what it read fails (a pager that is down),
    /// which <see cref="ImmuneFeedStatus.FailingSince"/> and <see cref="ImmuneFeedStatus.LastError"/> say apart.
    /// </summary>
    protected void ReportRead()
    {
        DateTimeOffset now = TimeProvider.GetUtcNow();
        lock (_gate)
        {
            _lastReadAt = now;
        }
    }

    /// <summary>Records how far behind the broker the feed is, as the broker tells it.</summary>
    /// <param name="lag">Entries not read yet; null when unknown.</param>
    /// <param name="pending">Entries handed to the feed's group but not acknowledged; null without a group.</param>
    protected void ReportBacklog(long? lag, long? pending)
    {
        lock (_gate)
        {
            (_lag, _pending) = (lag, pending);
        }
    }

    /// <summary>Records, and logs, entries the feed found gone from the broker before it read them.</summary>
    /// <param name="count">How many; nothing is recorded for 0 or less.</param>
    /// <param name="stream">Where they were.</param>
    protected void ReportLost(long count, string stream)
    {
        if (count <= 0)
        {
            return;
        }

        lock (_gate)
        {
            _lost += count;
        }

        Quietly(() => ImmuneLog.EntriesLost(_logger, Name, count, stream));
    }

    /// <summary>Logs an entry that was no envelope and was moved aside (its group acknowledges it: it never blocks the rest).</summary>
    /// <param name="entry">The entry's id on the broker.</param>
    /// <param name="stream">Where it was.</param>
    /// <param name="deadLetter">Where it was moved.</param>
    /// <param name="reason">Why it is no envelope.</param>
    protected void ReportDeadLettered(string entry, string stream, string deadLetter, string reason)
        => Quietly(() => ImmuneLog.EntryDeadLettered(_logger, entry, stream, deadLetter, reason));

    /// <summary>Reads once, as the loop does, and records it: for tests and tools that drive a feed step by step.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>How many entries were read.</returns>
    internal async Task<int> ReadOnceAsync(CancellationToken cancellationToken = default)
    {
        int read = await ReadAsync(cancellationToken).ConfigureAwait(false);
        Succeeded(read);
        return read;
    }

    private void Succeeded(int read)
    {
        DateTimeOffset now = TimeProvider.GetUtcNow();
        long failures;
        TimeSpan duration;
        lock (_gate)
        {
            _lastReadAt = now;
            _read += Math.Max(0, read);
            failures = _failures;
            duration = failures > 0 ? TimeProvider.GetElapsedTime(_failingFrom) : TimeSpan.Zero;
            (_failures, _failingSince, _lastError) = (0, null, null);
        }

        if (failures > 0)
        {
            Quietly(() => ImmuneLog.FeedRecovered(_logger, Name, duration, failures));
        }
    }

    private TimeSpan Failed(Exception exception)
    {
        long failures;
        bool log;
        lock (_gate)
        {
            if (_failures++ == 0)
            {
                _failingSince = TimeProvider.GetUtcNow();
                _failingFrom = TimeProvider.GetTimestamp();
                _nextFailureLog = long.MinValue;
            }

            failures = _failures;
            _lastError = Describe(exception);
            long now = TimeProvider.GetTimestamp();
            log = now >= _nextFailureLog;
            if (log)
            {
                _nextFailureLog = Delivery.Stamps.Add(now, Delivery.Stamps.Of(LogInterval, TimeProvider));
            }
        }

        TimeSpan delay = Backoff(failures);
        if (log)
        {
            Quietly(() => ImmuneLog.FeedFailing(_logger, Name, failures, Describe(exception), delay, exception));
        }

        return delay;
    }

    /// <summary>The wait after <paramref name="failures"/> failed reads in a row: the poll interval, doubling, at most 30 seconds.</summary>
    private TimeSpan Backoff(long failures)
    {
        double factor = Math.Pow(2, Math.Min(failures - 1, 20));
        double ticks = Math.Min(MaxBackoff.Ticks, Math.Max(_pollInterval.Ticks, 1) * factor);
        return TimeSpan.FromTicks((long)ticks);
    }

    private static string Describe(Exception exception)
    {
        try
        {
            return $"{exception.GetType().Name}: {exception.Message}";
        }
        catch (Exception)
        {
            return exception.GetType().Name; // a message that throws while it is read
        }
    }

    /// <summary>Logging never ends the loop: a logger that throws loses that entry.</summary>
    private static void Quietly(Action report)
    {
        try
        {
            report();
        }
        catch (Exception)
        {
            // See above.
        }
    }
}
