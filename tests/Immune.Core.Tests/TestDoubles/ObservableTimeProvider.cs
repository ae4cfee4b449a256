using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.TestDoubles;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells a test when code under test starts a timer (creates one, or arms an idle
/// one) and for how long, so the test advances time only once the timer exists.
/// </summary>
internal sealed class ObservableTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Told only once the timer exists: a test that advances the clock on the news must find it there.
        var timer = new ObservedTimer(this, base.CreateTimer(callback, state, dueTime, period));
        Started(dueTime);
        return timer;
    }

    /// <summary>Completes with the due time of the next timer started.</summary>
    public Task<TimeSpan> NextTimer() => _timers.Reader.ReadAsync().AsTask().WaitAsync(Events.HangGuard);

    /// <summary>Completes with the due time of the next timer started for another duration than <paramref name="ignored"/> (say, the publish timeout's watchdog).</summary>
    public async Task<TimeSpan> NextTimerOtherThan(TimeSpan ignored)
    {
        while (true)
        {
            TimeSpan due = await NextTimer();
            if (due != ignored)
            {
                return due;
            }
        }
    }

    private void Started(TimeSpan dueTime)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _timers.Writer.TryWrite(dueTime); // a timer created or re-armed idle is no news to a test
        }
    }

    private sealed class ObservedTimer(ObservableTimeProvider owner, ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            owner.Started(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
