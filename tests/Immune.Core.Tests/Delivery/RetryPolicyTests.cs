using Immune.Delivery;

namespace Immune.Tests.Delivery;

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData("Delivered", 1, 3, "Settle")]
    [InlineData("Delivered", 3, 3, "Settle")]
    [InlineData("FailedStreamError", 1, 3, "None")]
    [InlineData("FailedStreamError", 2, 3, "None")]
    [InlineData("FailedStreamError", 3, 3, "Settle")]
    [InlineData("FailedTimeout", 3, 3, "Settle")]
    [InlineData("FailedTimeout", 1, 1, "Settle")]
    [InlineData("FailedTimeout", 1_000_000, int.MaxValue, "None")]
    [InlineData("DroppedShutdown", 1, 3, "GiveUpRest")]
    [InlineData("DroppedShutdown", 3, 3, "GiveUpRest")]
    public void After_EachOutcomeAndAttempt_EndsAsThePolicySays(string outcome, int attempt, int max, string expected)
        => RetryPolicy.After(Enum.Parse<Outcome>(outcome), attempt, max).ShouldBe(Enum.Parse<RetryPolicy.End>(expected));

    [Theory]
    [InlineData(10_000, 100, 100)]   // plenty of time: the backoff
    [InlineData(100, 100, 100)]      // the deadline is exactly the backoff: wait to it, and one more attempt decides
    [InlineData(40, 100, 40)]        // the deadline comes first
    [InlineData(0, 100, 0)]          // at the deadline: no wait, the attempt goes at once
    [InlineData(-50, 100, 0)]        // past it: no wait either
    public void Wait_TheBackoffUnlessTheDeadlineComesFirst(int leftMs, int backoffMs, int expectedMs)
        => RetryPolicy.Wait(TimeSpan.FromMilliseconds(leftMs), TimeSpan.FromMilliseconds(backoffMs)).ShouldBe(TimeSpan.FromMilliseconds(expectedMs));

    [Fact]
    public void Wait_InfiniteTimeout_AlwaysTheBackoff()
        => RetryPolicy.Wait(TimeSpan.MaxValue, TimeSpan.FromHours(1)).ShouldBe(TimeSpan.FromHours(1));
}
