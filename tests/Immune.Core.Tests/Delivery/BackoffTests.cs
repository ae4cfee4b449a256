using Immune.Delivery;

namespace Immune.Tests.Delivery;

public sealed class BackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(1, 0.0, 80)]
    [InlineData(1, 0.5, 100)]
    [InlineData(1, 0.999, 119.96)]
    [InlineData(2, 0.5, 200)]
    [InlineData(3, 0.0, 320)]
    [InlineData(4, 0.25, 720)]
    public void Delay_DoublesPerAttemptWithJitterOfTwentyPercent(int attempt, double jitter, double expectedMilliseconds)
        => Backoff.Delay(attempt, Base, Max, jitter).ShouldBe(TimeSpan.FromMilliseconds(expectedMilliseconds));

    [Theory]
    [InlineData(5, 0.5, 1000)]  // 1.6 s nominal, capped at 1 s
    [InlineData(5, 0.0, 800)]   // jitter applies after the cap
    [InlineData(5, 0.999, 1199.6)]
    [InlineData(1_000, 0.5, 1000)]
    [InlineData(int.MaxValue, 0.5, 1000)]
    public void Delay_IsCappedAtTheMaximumBeforeJitter(int attempt, double jitter, double expectedMilliseconds)
        => Backoff.Delay(attempt, Base, Max, jitter).ShouldBe(TimeSpan.FromMilliseconds(expectedMilliseconds));

    [Fact]
    public void Delay_BaseAboveTheMaximum_TheBaseWins()
    {
        Backoff.Delay(1, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 0.5).ShouldBe(TimeSpan.FromSeconds(5));
        Backoff.Delay(9, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 0.5).ShouldBe(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Delay_ZeroBase_IsZero() => Backoff.Delay(5, TimeSpan.Zero, Max, 0.7).ShouldBe(TimeSpan.Zero);
}
