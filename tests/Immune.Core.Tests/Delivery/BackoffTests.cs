using Immune.Delivery;

namespace Immune.Tests.Delivery;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 0.0, 80)]
    [InlineData(1, 0.5, 100)]
    [InlineData(1, 0.999, 119.96)]
    [InlineData(2, 0.5, 200)]
    [InlineData(3, 0.0, 320)]
    [InlineData(4, 0.25, 720)]
    public void Delay_DoublesPerAttemptWithJitterOfTwentyPercent(int attempt, double jitter, double expectedMilliseconds)
        => Backoff.Delay(attempt, TimeSpan.FromMilliseconds(100), jitter).ShouldBe(TimeSpan.FromMilliseconds(expectedMilliseconds));

    [Fact]
    public void Delay_IsCappedAtFiveMinutes()
    {
        Backoff.Delay(100, TimeSpan.FromMinutes(1), 0.999).ShouldBe(TimeSpan.FromMinutes(5));
        Backoff.Delay(30, TimeSpan.FromSeconds(1), 0.5).ShouldBe(Backoff.Cap);
    }

    [Fact]
    public void Delay_ZeroBase_IsZero() => Backoff.Delay(5, TimeSpan.Zero, 0.7).ShouldBe(TimeSpan.Zero);
}
