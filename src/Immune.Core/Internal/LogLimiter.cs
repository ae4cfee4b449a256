namespace Immune.Internal;

/// <summary>
/// Lets one log entry through, then at most one per interval, and counts the ones held back so the next entry can
/// report them. Lock-free: callers may be publishers (queue-full drops) or the delivery loop.
/// </summary>
internal sealed class LogLimiter(TimeProvider timeProvider, TimeSpan interval)
{
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
    private long _nextAllowed = long.MinValue;
    private long _suppressed;

    /// <summary>Returns <see langword="true"/> when an entry may be written now, with how many were held back since the last one.</summary>
    public bool TryAcquire(out long suppressed)
    {
        long now = timeProvider.GetTimestamp();
        long next = Volatile.Read(ref _nextAllowed);
        if (now >= next && Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
