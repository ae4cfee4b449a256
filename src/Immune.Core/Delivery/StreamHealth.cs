namespace Immune.Delivery;

/// <summary>
/// Whether the stream is failing: when the current run of failed attempts began and when the latest of them failed,
/// with one log entry when it starts and one when it ends (how long, how many attempts failed, how many envelopes
/// waited). Told by the delivery loop after every attempt, and read by it; <see cref="FailingSince"/> from any thread.
/// </summary>
internal sealed class StreamHealth(TimeProvider timeProvider, DeliveryReporter reporter, Func<long> backlog)
{
    private long _failingSince; // UTC ticks of the first failed attempt of the current run; 0 when the last attempt succeeded
    private long _failingFrom;  // the same moment as a timestamp, for the duration
    private long _lastFailedAt; // the timestamp at which the latest failed attempt of the current run ended
    private long _failedAttempts;

    /// <summary>Gets when the current run of failed attempts began, or null while the last attempt succeeded.</summary>
    public DateTimeOffset? FailingSince
        => Volatile.Read(ref _failingSince) is long ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>
    /// Gets the timestamp at which the stream's latest attempt failed, or <see cref="long.MinValue"/> while the last attempt
    /// succeeded. An envelope whose deadline had passed by then was as good as tried: it fails without a try of its own.
    /// </summary>
    public long LastFailedAt => _failedAttempts > 0 ? _lastFailedAt : long.MinValue;

    /// <summary>An attempt failed (not a shutdown) at <paramref name="at"/>: starts a failing run unless one is going on.</summary>
    public void Failed(Outcome outcome, Exception? exception, long at)
    {
        _lastFailedAt = at;
        if (_failedAttempts++ > 0 || Volatile.Read(ref _failingSince) != 0)
        {
            return;
        }

        _failingFrom = at;
        DateTimeOffset now = timeProvider.GetUtcNow();
        Volatile.Write(ref _failingSince, Math.Max(now.UtcTicks, 1));
        reporter.StreamFailing(Reasons.Of(outcome), exception);
    }

    /// <summary>An attempt succeeded: ends a failing run, if one was going on.</summary>
    public void Succeeded()
    {
        if (_failedAttempts == 0)
        {
            return;
        }

        TimeSpan duration = timeProvider.GetElapsedTime(_failingFrom);
        long attempts = _failedAttempts;
        _failedAttempts = 0;
        Volatile.Write(ref _failingSince, 0);
        reporter.StreamRecovered(duration, attempts, backlog());
    }

    /// <summary>
    /// Tells what one run of calls showed, which ended at <paramref name="at"/>: its successes first, then how the next
    /// attempt ended. A rejection of envelopes is no failure of the stream: the broker answered.
    /// </summary>
    public void Observe(in StreamCall.Run run, long at)
    {
        if (run.Delivered > 0 || run.Next.Outcome is Outcome.Delivered or Outcome.FailedRejected)
        {
            Succeeded();
        }

        if (run.Next.Outcome is Outcome.FailedTimeout or Outcome.FailedStreamError)
        {
            Failed(run.Next.Outcome, run.Next.Exception, at);
        }
    }
}
