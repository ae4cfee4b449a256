using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Consumers;

/// <summary>
/// <see cref="ImmuneFeed"/>: a loop that serves people never ends on an exception. It logs once when it starts failing
/// (then at most once a minute) and once when it recovers, backs off from the poll interval doubling to 30 seconds, and
/// shows its trouble in its status; only its token ends it.
/// </summary>
public sealed class ImmuneFeedTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private readonly ObservableTimeProvider _time = new(Start);
    private readonly FakeLogger _logger = new();

    /// <summary>A feed whose reads are scripted: each read takes the next step (a count, or an exception to throw).</summary>
    private sealed class ScriptedFeed(Queue<object> steps, ILogger logger, TimeProvider time) : ImmuneFeed("scripted", TimeSpan.FromMilliseconds(100), logger, time)
    {
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Reads;

        public Task Drained => _drained.Task.WaitAsync(Events.HangGuard);

        public void Lost(long count) => ReportLost(count, "stream");

        public void Read() => ReportRead();

        /// <summary>Gets or sets what giving back does when the loop ends; null to count the call only.</summary>
        public Exception? StopProblem { get; set; }

        public int Stops;

        protected override Task StoppedAsync()
        {
            Stops++;
            return StopProblem is { } problem ? Task.FromException(problem) : Task.CompletedTask;
        }

        protected override ValueTask<int> ReadAsync(CancellationToken cancellationToken)
        {
            Reads++;
            if (!steps.TryDequeue(out object? step))
            {
                _drained.TrySetResult();
                return ValueTask.FromResult(0);
            }

            return step is Exception exception ? ValueTask.FromException<int>(exception) : ValueTask.FromResult((int)step);
        }
    }

    [Fact]
    public async Task RunAsync_ReadsFailInEveryWay_TheLoopGoesOnBackingOff_LogsOnceEachWay_AndTheStatusShowsIt()
    {
        var steps = new Queue<object>([
            new IOException("connection reset"), new TimeoutException("no answer"), new OperationCanceledException("the read's own cancellation"),
            new InvalidOperationException("anything"), new NullReferenceException(), 3]);
        var feed = new ScriptedFeed(steps, _logger, _time);
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token);

        var delays = new List<TimeSpan>();
        for (int i = 0; i < 5; i++)
        {
            TimeSpan due = await _time.NextTimer();
            delays.Add(due);
            if (i == 2)
            {
                ImmuneFeedStatus failing = feed.GetStatus();
                (failing.FailingSince, failing.Failures, failing.LastReadAt).ShouldBe((Start, 3L, (DateTimeOffset?)null));
                failing.LastError.ShouldBe("OperationCanceledException: the read's own cancellation");
            }

            _time.Advance(due);
        }

        await feed.Drained; // the read that found nothing; the feed waits its poll interval now
        delays.Select(d => d.TotalMilliseconds).ShouldBe([100, 200, 400, 800, 1600]);
        ImmuneFeedStatus status = feed.GetStatus();
        (status.FailingSince, status.Failures, status.LastError).ShouldBe(((DateTimeOffset?)null, 0L, (string?)null));
        status.LastReadAt.ShouldBe(Start + TimeSpan.FromMilliseconds(3100));
        _logger.Collector.GetSnapshot().Where(r => r.Id.Name == "FeedFailing").ShouldHaveSingleItem().Level.ShouldBe(LogLevel.Warning);
        FakeLogRecord recovered = _logger.Collector.GetSnapshot().Single(r => r.Id.Name == "FeedRecovered");
        recovered.GetStructuredStateValue("Failures").ShouldBe("5");

        await stop.CancelAsync();
        await running.WaitAsync(Events.HangGuard); // ends only by its token, without faulting
        running.IsCompletedSuccessfully.ShouldBeTrue();
    }

    [Fact]
    public async Task RunAsync_FailingForMinutes_BacksOffToThirtySeconds_AndLogsAtMostOnceAMinute()
    {
        var steps = new Queue<object>(Enumerable.Range(0, 20).Select(_ => (object)new IOException("down")));
        var feed = new ScriptedFeed(steps, _logger, _time);
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token);

        var delays = new List<TimeSpan>();
        for (int i = 0; i < 20; i++)
        {
            TimeSpan due = await _time.NextTimer();
            delays.Add(due);
            _time.Advance(due);
        }

        delays.Max().ShouldBe(TimeSpan.FromSeconds(30));
        TimeSpan total = delays.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        int logged = _logger.Collector.GetSnapshot().Count(r => r.Id.Name == "FeedFailing");
        logged.ShouldBeGreaterThan(1);
        logged.ShouldBeLessThanOrEqualTo((int)Math.Ceiling(total.TotalMinutes) + 1);
        await stop.CancelAsync();
        await running.WaitAsync(Events.HangGuard);
    }

    [Fact]
    public async Task RunAsync_ALoggerThatThrows_NeverEndsTheLoop()
    {
        var steps = new Queue<object>([new IOException("down"), 1]);
        ILogger logger = Substitute.For<ILogger>();
        logger.IsEnabled(Arg.Any<LogLevel>()).Returns(true);
        logger.When(l => l.Log(Arg.Any<LogLevel>(), Arg.Any<EventId>(), Arg.Any<object>(), Arg.Any<Exception?>(), Arg.Any<Func<object, Exception?, string>>()))
            .Do(_ => throw new InvalidOperationException("the log's disk is full"));
        var feed = new ScriptedFeed(steps, logger, _time);
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token);

        _time.Advance(await _time.NextTimer());
        await feed.Drained;

        feed.GetStatus().Failures.ShouldBe(0);
        feed.Lost(5); // logs too
        feed.GetStatus().Lost.ShouldBe(5);
        await stop.CancelAsync();
        await running.WaitAsync(Events.HangGuard);
        running.IsCompletedSuccessfully.ShouldBeTrue();
    }

    [Fact]
    public async Task RunAsync_WhileRunning_RefusesASecondRun()
    {
        var feed = new ScriptedFeed(new Queue<object>(), _logger, _time);
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token);

        await Should.ThrowAsync<InvalidOperationException>(() => feed.RunAsync(stop.Token));
        await stop.CancelAsync();
        await running.WaitAsync(Events.HangGuard);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_Ends_GivesBackWhatItHoldsOnce_AFailureThereIsLoggedAndCounted_NeverThrown(bool fails)
    {
        var feed = new ScriptedFeed(new Queue<object>([1, 2]), _logger, _time) { StopProblem = fails ? new InvalidOperationException("the broker is gone") : null };
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token);
        await feed.Drained;
        feed.Stops.ShouldBe(0);

        await stop.CancelAsync();
        await running.WaitAsync(Events.HangGuard); // never faults

        feed.Stops.ShouldBe(1);
        feed.GetStatus().Failures.ShouldBe(fails ? 1 : 0);
        feed.GetStatus().LastError.ShouldBe(fails ? "InvalidOperationException: the broker is gone" : null);
        _logger.Collector.GetSnapshot().Count(r => r.Exception is InvalidOperationException).ShouldBe(fails ? 1 : 0);
    }

    [Fact]
    public void ReportLost_CountsAndLogsWhatTheBrokerDroppedBeforeTheFeedReadIt()
    {
        var feed = new ScriptedFeed(new Queue<object>(), _logger, _time);

        feed.Lost(0);
        feed.Lost(7);
        feed.Lost(3);

        feed.GetStatus().Lost.ShouldBe(10);
        _logger.Collector.GetSnapshot().Where(r => r.Id.Name == "EntriesLost").Select(r => r.GetStructuredStateValue("Count")).ShouldBe(["7", "3"]);
    }

    [Fact]
    public async Task ReportRead_RecordsWhenTheBrokerLastAnswered()
    {
        var feed = new ScriptedFeed(new Queue<object>(), _logger, _time);
        await feed.ReadOnceAsync();
        _time.Advance(TimeSpan.FromMinutes(1));

        feed.Read();
        feed.GetStatus().LastReadAt.ShouldBe(Start.AddMinutes(1));
        feed.GetStatus().FailingSince.ShouldBeNull();
    }
}
