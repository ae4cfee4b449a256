using Immune.Delivery;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Delivery;

public sealed class LogLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryAcquire_FirstThenOncePerInterval_ReportingWhatWasHeldBack()
    {
        var limiter = new LogLimiter(_time, TimeSpan.FromMinutes(1));

        limiter.TryAcquire(1, out long first).ShouldBeTrue();
        first.ShouldBe(0);
        limiter.TryAcquire(1, out _).ShouldBeFalse();
        limiter.TryAcquire(5, out _).ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(59));
        limiter.TryAcquire(1, out _).ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(1));
        limiter.TryAcquire(3, out long held).ShouldBeTrue();
        held.ShouldBe(1 + 5 + 1 + 2); // held back, plus its own items but the one it names
    }

    [Fact]
    public void TryAcquire_ZeroInterval_LetsEveryEntryThrough()
    {
        var limiter = new LogLimiter(_time, TimeSpan.Zero);

        Enumerable.Range(0, 5).All(_ => limiter.TryAcquire(1, out long s) && s == 0).ShouldBeTrue();
    }

    [Fact]
    public async Task TryAcquire_Concurrently_LetsExactlyOneThroughPerInterval()
    {
        var limiter = new LogLimiter(_time, TimeSpan.FromMinutes(1));
        int granted = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                if (limiter.TryAcquire(1, out _)) Interlocked.Increment(ref granted);
            }
        })));
        limiter.TryAcquire(1, out _).ShouldBeFalse();
        _time.Advance(TimeSpan.FromMinutes(1));
        limiter.TryAcquire(1, out long heldBack).ShouldBeTrue();

        granted.ShouldBe(1);
        heldBack.ShouldBe(8_000 - 1 + 1);
    }
}
