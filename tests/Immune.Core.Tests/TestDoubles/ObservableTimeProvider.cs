using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.TestDoubles;

/// <summary>A <see cref="FakeTimeProvider"/> that tells a test when code under test starts a timer and for how long, so the test advances time only once the timer exists.</summary>
internal sealed class ObservableTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _timers.Writer.TryWrite(dueTime);
        return base.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Completes with the due time of the next timer started.</summary>
    public Task<TimeSpan> NextTimer() => _timers.Reader.ReadAsync().AsTask().WaitAsync(Events.HangGuard);
}
