using Immune.Delivery;

namespace Immune.Tests.Delivery;

public sealed class SettlementWaitersTests
{
    [Fact]
    public void WaitFor_SettledAlready_CompletedAtOnce()
    {
        var waiters = new SettlementWaiters();

        waiters.WaitFor(5, settledThrough: 5).IsCompletedSuccessfully.ShouldBeTrue();
        waiters.WaitFor(4, settledThrough: 5).IsCompletedSuccessfully.ShouldBeTrue();
    }

    [Fact]
    public void Release_CompletesExactlyTheWaitersUpToTheSettledSequence_InAnyOrderTheyCameIn()
    {
        var waiters = new SettlementWaiters();
        Task seven = waiters.WaitFor(7, 0), three = waiters.WaitFor(3, 0), five = waiters.WaitFor(5, 0), alsoFive = waiters.WaitFor(5, 0);

        waiters.Release(4);
        (three.IsCompleted, five.IsCompleted, alsoFive.IsCompleted, seven.IsCompleted).ShouldBe((true, false, false, false));

        waiters.Release(5);
        (five.IsCompleted, alsoFive.IsCompleted, seven.IsCompleted).ShouldBe((true, true, false));

        waiters.Release(5); // nothing new: nothing changes
        seven.IsCompleted.ShouldBeFalse();
        waiters.Release(100);
        seven.IsCompletedSuccessfully.ShouldBeTrue();
    }

    [Fact]
    public async Task Release_ContinuationsRunElsewhere_NotInsideTheReleasingCall()
    {
        var waiters = new SettlementWaiters();
        Task waiting = waiters.WaitFor(1, 0);
        var ranOn = new TaskCompletionSource<int>();
        _ = waiting.ContinueWith(
            _ =>
            {
                lock (waiters) ranOn.SetResult(Environment.CurrentManagedThreadId); // waits for the lock, unless it runs inside it
            },
            TaskContinuationOptions.ExecuteSynchronously);
        bool releasedFirst;

        lock (waiters) // as the pipeline does: Release runs under its lock
        {
            waiters.Release(1);
            releasedFirst = !ranOn.Task.IsCompleted; // a continuation run inline would have re-entered the lock and completed
        }

        releasedFirst.ShouldBeTrue();
        (await ranOn.Task.WaitAsync(TimeSpan.FromSeconds(30))).ShouldBeGreaterThan(0);
    }
}
