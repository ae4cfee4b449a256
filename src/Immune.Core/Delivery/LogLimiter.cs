namespace Immune.Delivery;

/// <summary>
/// Lets one log entry through, then at most one per interval, and counts the ones held back so the next entry can
/// report them. Lock-free: callers may be publishers (queue-full drops) or the delivery loop.
/// </summary>
internal sealed class LogLimiter(TimeProvider timeProvider, TimeSpan interval)
{
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
    private long _nextAllowed = long.MinValue;
    private long _suppressed;

    /// <summary>
    /// Returns <see langword="true"/> when an entry about <paramref name="count"/> items may be written now; then
    /// <paramref name="suppressed"/> is how many other items it stands for: those held back since the last entry, and
    /// all of its own items but the one it names.
    /// </summary>
    public bool TryAcquire(long count, out long suppressed)
    {
        long now = timeProvider.GetTimestamp();
        long next = Volatile.Read(ref _nextAllowed);
        if (now >= next && Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0) + count - 1;
            return true;
        }

        Interlocked.Add(ref _suppressed, count);
        suppressed = 0;
        return false;
    }
}
