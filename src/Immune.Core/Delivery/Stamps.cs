namespace Immune.Delivery;

/// <summary>
/// Arithmetic on <see cref="TimeProvider"/> timestamps (monotonic, in the provider's own frequency), saturating rather
/// than overflowing: a deadline that lies beyond what a timestamp holds is <see cref="long.MaxValue"/>, which no clock
/// reaches. Deadlines live here, not on the wall clock, so a clock set or stepped while nothing was attempted moves none.
/// </summary>
internal static class Stamps
{
    /// <summary>Gets <paramref name="span"/> in <paramref name="timeProvider"/>'s timestamp units; <see cref="long.MaxValue"/> when infinite or too long.</summary>
    public static long Of(TimeSpan span, TimeProvider timeProvider)
    {
        if (span == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        double stamps = Math.Ceiling(span.Ticks * ((double)timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond));
        return stamps >= long.MaxValue ? long.MaxValue : Math.Max(0, (long)stamps);
    }

    /// <summary>Adds <paramref name="stamps"/> (zero or more) to <paramref name="stamp"/>, saturating at <see cref="long.MaxValue"/>.</summary>
    public static long Add(long stamp, long stamps) => stamp > long.MaxValue - stamps ? long.MaxValue : stamp + stamps;

    /// <summary>Gets the time from now until <paramref name="stamp"/>: zero when it has passed, at most the longest a timer takes.</summary>
    public static TimeSpan Until(long stamp, TimeProvider timeProvider)
    {
        long now = timeProvider.GetTimestamp();
        if (stamp <= now)
        {
            return TimeSpan.Zero;
        }

        double ticks = (double)(stamp - now) * TimeSpan.TicksPerSecond / timeProvider.TimestampFrequency; // no overflow: both are timestamps, stamp after now
        return ticks >= MaxTimer.Ticks ? MaxTimer : TimeSpan.FromTicks((long)Math.Ceiling(ticks));
    }

    /// <summary>The longest due time a timer accepts (about 49.7 days).</summary>
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
}
