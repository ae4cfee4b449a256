using Immune.Internal;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Internal;

/// <summary>The background work the transports' trims run on: at most once per interval, one run at a time, never waited for, never ended by a failure.</summary>
public sealed class DueWorkTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly DueWork _due;
    private int _runs;

    public DueWorkTests() => _due = new DueWork(Interval, _time);

    private void IfDue(Func<Task> run) => _due.IfDue(this, self =>
    {
        self._runs++;
        return run();
    });

    [Fact]
    public void IfDue_RunsAtOnce_ThenNotAgainWithinTheInterval_ThenAgainAfterIt()
    {
        IfDue(() => Task.CompletedTask);
        _runs.ShouldBe(1);

        _time.Advance(Interval - TimeSpan.FromTicks(1));
        IfDue(() => Task.CompletedTask);
        _runs.ShouldBe(1);

        _time.Advance(TimeSpan.FromTicks(1));
        IfDue(() => Task.CompletedTask);
        _runs.ShouldBe(2);
    }

    [Fact]
    public void IfDue_WhileARunIsUnderWay_StartsNoOther_UntilItEnds()
    {
        var slow = new TaskCompletionSource();
        IfDue(() => slow.Task);
        _time.Advance(Interval * 3);

        IfDue(() => Task.CompletedTask);
        _runs.ShouldBe(1); // due, but one runs

        slow.SetResult();
        IfDue(() => Task.CompletedTask);
        _runs.ShouldBe(2);
    }

    [Fact]
    public void IfDue_ARunThatFails_OrThrowsBeforeItsFirstAwait_NeverReachesTheCaller_AndTheNextIntervalRunsAgain()
    {
        IfDue(() => Task.FromException(new InvalidOperationException("broker down")));
        _time.Advance(Interval);
        Should.NotThrow(() => IfDue(() => throw new InvalidOperationException("thrown, not returned")));
        _runs.ShouldBe(2);

        _time.Advance(Interval);
        IfDue(() => Task.CompletedTask);
        _runs.ShouldBe(3);
    }
}
