using Microsoft.Extensions.Time.Testing;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>One health answer is one moment: whether it is live is judged at the time it shows, however the clock moves while it is made.</summary>
public sealed class FleetHostTests
{
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Health_LiveAgreesWithItsOwnGeneratedAt_WhenTheClockMovesBetweenReads()
    {
        var time = new FakeTimeProvider(FleetApp.Start);
        var feed = new ToldFeed(time); // never started: only the answers read the clock
        await feed.ReadOnceAsync();
        var options = new ImmuneFleetHostOptions { StaleAfter = StaleAfter };
        var host = new FleetHost(new ImmuneFleetView(timeProvider: time), options, new FleetFreshness([feed], options, time));
        time.Advance(TimeSpan.FromSeconds(25));

        time.AutoAdvanceAmount = TimeSpan.FromSeconds(10); // every read of the clock crosses StaleAfter: an answer must read it once
        HealthResponse[] answers = [.. Enumerable.Range(0, 3).Select(_ => host.Health(TimeSpan.FromHours(1), 50))];

        foreach (HealthResponse answer in answers)
        {
            TimeSpan age = answer.GeneratedAt - answer.LastReadAt!.Value;
            answer.Live.ShouldBe(age <= StaleAfter, $"an answer generated {age} after the last read");
        }

        answers.Select(a => (a.GeneratedAt - a.LastReadAt!.Value).TotalSeconds).ShouldBe([25, 35, 45]); // one read of the clock each
    }
}
