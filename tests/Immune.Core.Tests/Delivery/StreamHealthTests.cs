using Immune.Delivery;
using Immune.Internal;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="StreamHealth"/>: a run of failed attempts starts with one <c>StreamFailing</c> log and ends with one
/// <c>StreamRecovered</c> log (how long, how many attempts failed, how many envelopes waited); a stop is neither.
/// </summary>
public sealed class StreamHealthTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeLogger _logger = new();
    private readonly ImmuneMetrics _metrics = new(null, () => 0, () => 0);
    private readonly StreamHealth _health;
    private long _backlog;

    public StreamHealthTests()
        => _health = new StreamHealth(_time, new DeliveryReporter(_logger, _metrics, _time, TimeSpan.FromMinutes(1)), () => _backlog);

    public void Dispose() => _metrics.Dispose();

    private static StreamCall.Run Run(int delivered, Outcome next, Exception? exception = null) => new(delivered, new Attempt(next, exception));

    [Fact]
    public void ARunOfFailures_IsLoggedOnceWhenItStarts_AndOnceWhenItEnds_WithItsLengthAttemptsAndBacklog()
    {
        var reset = new IOException("connection reset");
        _health.FailingSince.ShouldBeNull();

        _health.Observe(Run(0, Outcome.FailedStreamError, reset), _time.GetTimestamp());
        _time.Advance(TimeSpan.FromSeconds(3));
        _health.Observe(Run(0, Outcome.FailedTimeout), _time.GetTimestamp());
        _time.Advance(TimeSpan.FromSeconds(2));
        _health.Observe(Run(0, Outcome.FailedStreamError, reset), _time.GetTimestamp());

        _health.FailingSince.ShouldBe(Start); // the first failure of the run
        FakeLogRecord failing = _logger.WithName("StreamFailing").ShouldHaveSingleItem();
        failing.GetStructuredStateValue("Reason").ShouldBe(Reasons.StreamError);
        failing.Exception.ShouldBeSameAs(reset);

        _backlog = 42;
        _time.Advance(TimeSpan.FromSeconds(1));
        _health.Observe(Run(4, Outcome.Delivered), _time.GetTimestamp());

        _health.FailingSince.ShouldBeNull();
        FakeLogRecord recovered = _logger.WithName("StreamRecovered").ShouldHaveSingleItem();
        recovered.GetStructuredStateValue("Duration").ShouldBe(TimeSpan.FromSeconds(6).ToString());
        recovered.GetStructuredStateValue("FailedAttempts").ShouldBe("3");
        recovered.GetStructuredStateValue("Waiting").ShouldBe("42");
    }

    [Fact]
    public void ARunThatDeliversSomeThenFails_EndsTheOldFailingRunAndStartsANewOne()
    {
        _health.Observe(Run(0, Outcome.FailedStreamError), _time.GetTimestamp());
        _time.Advance(TimeSpan.FromSeconds(5));

        _health.Observe(Run(2, Outcome.FailedTimeout), _time.GetTimestamp()); // two went through, then the next timed out

        _logger.WithName("StreamRecovered").Count.ShouldBe(1);
        _logger.WithName("StreamFailing").Count.ShouldBe(2);
        _health.FailingSince.ShouldBe(Start.AddSeconds(5));
        _logger.WithName("StreamFailing")[1].GetStructuredStateValue("Reason").ShouldBe(Reasons.Timeout);
    }

    [Fact]
    public void SuccessesWithoutAFailingRun_AndAStop_AreNotLogged()
    {
        _health.Observe(Run(3, Outcome.Delivered), _time.GetTimestamp());
        _health.Observe(Run(0, Outcome.DroppedShutdown), _time.GetTimestamp()); // the service stopped: the stream did not fail

        _health.FailingSince.ShouldBeNull();
        _logger.Collector.GetSnapshot().ShouldBeEmpty();
    }

    [Fact]
    public void LastFailedAt_TheLatestFailedAttemptOfTheRun_ForgottenAtTheNextSuccess_NotSetByAStop()
    {
        _health.LastFailedAt.ShouldBe(long.MinValue);
        _health.Observe(Run(0, Outcome.DroppedShutdown), _time.GetTimestamp());
        _health.LastFailedAt.ShouldBe(long.MinValue);

        _health.Observe(Run(0, Outcome.FailedStreamError), 1_000);
        _health.Observe(Run(0, Outcome.FailedTimeout), 2_000);
        _health.LastFailedAt.ShouldBe(2_000);

        _health.Observe(Run(1, Outcome.Delivered), 3_000);
        _health.LastFailedAt.ShouldBe(long.MinValue); // the stream works: no deadline passes without a try of its own
    }
}
