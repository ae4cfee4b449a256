using System.Threading.Channels;
using Immune.Delivery;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.TestDoubles;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells a test when code under test starts a timer (creates one, or arms an idle
/// one) and for how long, so the test advances time only once the timer exists. A stream call's watchdog is told apart
/// from the other timers (backoffs, the fold timer) by its owner, not its duration: it may be due at the publish
/// timeout or earlier, at the delivery deadline of the envelope it carries.
/// </summary>
internal sealed class ObservableTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<(TimeSpan Due, bool Watchdog)> _timers = Channel.CreateUnbounded<(TimeSpan, bool)>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Told only once the timer exists: a test that advances the clock on the news must find it there.
        bool watchdog = state is StreamCall;
        var timer = new ObservedTimer(this, base.CreateTimer(callback, state, dueTime, period), watchdog);
        Started(dueTime, watchdog);
        return timer;
    }

    /// <summary>Completes with the due time of the next timer started, whichever it is.</summary>
    public async Task<TimeSpan> NextTimer() => (await _timers.Reader.ReadAsync().AsTask().WaitAsync(Events.HangGuard)).Due;

    /// <summary>Completes with the due time of the next timer started that is no stream call's watchdog (a backoff, say).</summary>
    public async Task<TimeSpan> NextBackoff()
    {
        while (true)
        {
            (TimeSpan due, bool watchdog) = await _timers.Reader.ReadAsync().AsTask().WaitAsync(Events.HangGuard);
            if (!watchdog)
            {
                return due;
            }
        }
    }

    /// <summary>Completes with the due time of the next stream call's watchdog started.</summary>
    public async Task<TimeSpan> NextWatchdog()
    {
        while (true)
        {
            (TimeSpan due, bool watchdog) = await _timers.Reader.ReadAsync().AsTask().WaitAsync(Events.HangGuard);
            if (watchdog)
            {
                return due;
            }
        }
    }

    private void Started(TimeSpan dueTime, bool watchdog)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _timers.Writer.TryWrite((dueTime, watchdog)); // a timer created or re-armed idle is no news to a test
        }
    }

    private sealed class ObservedTimer(ObservableTimeProvider owner, ITimer inner, bool watchdog) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            owner.Started(dueTime, watchdog);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
