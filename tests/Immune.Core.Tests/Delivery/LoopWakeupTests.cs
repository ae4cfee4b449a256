using Immune.Delivery;
using Immune.Tests.TestDoubles;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="LoopWakeup"/>: one wake-up for the pipeline's lifetime. Taken at most once per arming, it wakes the
/// waiting loop off the setter's thread, and it can be armed again as often as the loop idles.
/// </summary>
public sealed class LoopWakeupTests
{
    [Fact]
    public void TryTake_OnlyWhileArmed_AndOncePerArming()
    {
        var wakeup = new LoopWakeup();
        wakeup.TryTake().ShouldBeFalse(); // the loop is busy: nobody has anything to set

        ValueTask waiting = wakeup.Arm();
        wakeup.TryTake().ShouldBeTrue();
        wakeup.TryTake().ShouldBeFalse(); // a second publisher finds it taken
        waiting.IsCompleted.ShouldBeFalse();

        wakeup.Set();
        waiting.IsCompleted.ShouldBeTrue();
    }

    [Fact]
    public async Task Set_WakesTheLoopOffTheSettersThread()
    {
        var wakeup = new LoopWakeup();
        int setter = 0;
        bool setting = false;
        var woke = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The loop's continuation is registered before anyone sets the wake-up, as the loop's await does.
        OnWoken(wakeup.Arm(), () => woke.SetResult(Environment.CurrentManagedThreadId == Volatile.Read(ref setter) && Volatile.Read(ref setting)));

        var publisher = new Thread(() =>
        {
            Volatile.Write(ref setter, Environment.CurrentManagedThreadId);
            wakeup.TryTake().ShouldBeTrue();
            Volatile.Write(ref setting, true);
            wakeup.Set();
            Volatile.Write(ref setting, false);
        });
        publisher.Start();

        bool ranInsideSet = await woke.Task.WaitAsync(Events.HangGuard);
        ranInsideSet.ShouldBeFalse(); // the loop would otherwise run on a publisher's thread, inside its publish
        publisher.Join(Events.HangGuard).ShouldBeTrue();
    }

    [Fact]
    public async Task ArmedAgainAfterEachWake_WakesEveryTime()
    {
        var wakeup = new LoopWakeup();
        for (int i = 0; i < 1_000; i++)
        {
            ValueTask waiting = wakeup.Arm();
            Task setter = Task.Run(() =>
            {
                if (wakeup.TryTake())
                {
                    wakeup.Set();
                }
            });
            await waiting.AsTask().WaitAsync(Events.HangGuard); // a lost wake-up hangs here
            await setter.WaitAsync(Events.HangGuard);           // a wake-up not reset for its next arming throws here
        }
    }

    /// <summary>Registers <paramref name="continuation"/> as the loop's await does: with no context to post to.</summary>
    private static void OnWoken(ValueTask waiting, Action continuation) => waiting.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(continuation);
}
