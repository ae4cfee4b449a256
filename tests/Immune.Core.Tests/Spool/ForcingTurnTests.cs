using Immune.Spool;
using Immune.Tests.TestDoubles;

namespace Immune.Tests.Spool;

/// <summary>
/// <see cref="ForcingTurn"/>: one fsync at a time. Publishers wait for the turn without a thread, the sync timer may
/// block for it, and giving the turn back wakes both kinds; a blocked waiter that the finished fsync covered does not take it.
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
    public async Task Exit_WakesBlockedAndAsyncWaiters_ABlockedWaiterCoveredMeanwhileDoesNotTakeTheTurn()
    {
        var turn = new ForcingTurn();
        turn.TryEnter(out _).ShouldBeTrue();
        turn.TryEnter(out Task released).ShouldBeFalse();

        bool? tookTurn = null;
        var blocked = new Thread(() => tookTurn = turn.Enter(covered: 5)); // the sync timer's way: blocks until the turn is free
        blocked.Start();
        SpinWait.SpinUntil(() => (blocked.ThreadState & ThreadState.WaitSleepJoin) != 0, Events.HangGuard).ShouldBeTrue(); // asleep on the turn

        turn.Durable(5); // the fsync in progress covered sequence 5
        turn.Exit();

        await released.WaitAsync(Events.HangGuard);
        blocked.Join(Events.HangGuard).ShouldBeTrue();
        tookTurn.ShouldBe(false); // covered: it returned without the turn
        turn.TryEnter(out _).ShouldBeTrue(); // so the turn is free
        turn.DurableThrough.ShouldBe(5);
    }
}
