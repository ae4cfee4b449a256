using Immune.Spool;
using Immune.Tests.TestDoubles;

namespace Immune.Tests.Spool;

/// <summary>
/// <see cref="ForcingTurn"/>: one fsync at a time. Publishers wait for the turn without a thread, the sync timer may
/// block for it, and giving the turn back wakes both kinds.
/// </summary>
public sealed class ForcingTurnTests
{
    [Fact]
    public async Task TryEnter_TakesAFreeTurn_ElseGivesATaskThatCompletesWhenTheTurnIsGivenBack()
    {
        var turn = new ForcingTurn();
        turn.TryEnter(out Task none).ShouldBeTrue();
        none.IsCompleted.ShouldBeTrue();

        turn.TryEnter(out Task first).ShouldBeFalse();
        turn.TryEnter(out Task second).ShouldBeFalse();
        first.ShouldBeSameAs(second); // waiters of one turn share one task
        first.IsCompleted.ShouldBeFalse();

        turn.Exit();
        await first.WaitAsync(Events.HangGuard);
        turn.TryEnter(out _).ShouldBeTrue(); // free again
        turn.TryEnter(out Task next).ShouldBeFalse();
        next.ShouldNotBeSameAs(first); // a new turn, a new wait
        turn.Exit();
        await next.WaitAsync(Events.HangGuard);
    }

    [Fact]
    public async Task Exit_WakesBlockedAndAsyncWaiters_TheBlockedOneTakesTheTurn_TheOtherFindsItTakenAgain()
    {
        var turn = new ForcingTurn();
        turn.TryEnter(out _).ShouldBeTrue();
        turn.TryEnter(out Task released).ShouldBeFalse();

        using var entered = new ManualResetEventSlim();
        var blocked = new Thread(() => { turn.Enter(); entered.Set(); }); // the sync timer's way: blocks until the turn is free
        blocked.Start();
        SpinWait.SpinUntil(() => (blocked.ThreadState & ThreadState.WaitSleepJoin) != 0, Events.HangGuard).ShouldBeTrue(); // asleep on the turn
        entered.IsSet.ShouldBeFalse();

        turn.Durable(5); // the fsync in progress covered sequence 5
        turn.Exit();

        await released.WaitAsync(Events.HangGuard); // the async waiter is woken: it looks whether 5 covers it
        entered.Wait(Events.HangGuard).ShouldBeTrue(); // and the blocked one took the turn
        blocked.Join(Events.HangGuard).ShouldBeTrue();
        turn.DurableThrough.ShouldBe(5);
        turn.TryEnter(out Task next).ShouldBeFalse(); // so it is taken until given back
        turn.Exit();
        await next.WaitAsync(Events.HangGuard);
        turn.TryEnter(out _).ShouldBeTrue();
    }
}
