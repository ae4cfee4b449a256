using Microsoft.Extensions.Logging.Abstractions;

namespace Immune.Nats.Tests;

/// <summary><see cref="NatsFleetFeed"/> on a real nats-server: the view equals what the producers recorded, in whatever order it reads.</summary>
public sealed class NatsFleetFeedTests : NatsTest
{
    [Fact]
    public async Task TwoSourcesThreeInstances_TheSummaryEqualsWhatTheProducersRecorded_AndANewFeedRebuildsIt()
    {
        var random = new Random(23);
        var records = new List<ImmuneHealthSummary>();
        foreach (string source in new[] { "checkout", "payments", "checkout" })
        {
            await ProduceAsync(source, async service =>
            {
                for (int i = 0; i < 60; i++)
                {
                    IReadOnlyList<ImmuneEvent> recent = service.GetRecentEvents(TimeSpan.MaxValue);
                    if (recent.Count > 0 && random.Next(3) == 0)
                    {
                        await service.ChangeSeverityAsync(recent[random.Next(recent.Count)].Id, (ImmuneSeverity)random.Next(3));
                    }
                    else
                    {
                        await service.PublishAsync(new NewImmuneEvent((ImmuneSeverity)random.Next(3), (ImmuneEventType)random.Next(3), $"step {i}"));
                    }
                }

                await service.FlushAsync();
                records.Add(service.GetHealthSummary(TimeSpan.FromHours(1)));
            });
        }

        foreach (int round in new[] { 1, 2 })
        {
            var fleet = new ImmuneFleetView();
            var feed = new NatsFleetFeed(Connection, fleet, Options(o => o.BatchSize = 32), NullLogger<NatsFleetFeed>.Instance);
            while (await feed.ReadOnceAsync() > 0)
            {
            }

            ImmuneFleetSummary summary = fleet.GetHealthSummary(TimeSpan.FromHours(1));
            summary.ActiveIssues.ShouldBe(records.Sum(r => r.ActiveIssues), $"round {round}");
            summary.CriticalIssues.ShouldBe(records.Sum(r => r.CriticalIssues));
            foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
            {
                summary.CountsBySeverity[severity].ShouldBe(records.Sum(r => r.CountsBySeverity[severity]));
            }

            summary.Sources.Select(s => (s.Source, s.Instances)).ShouldBe([("checkout", 2), ("payments", 1)]);
            (feed.GetStatus().Lag, feed.GetStatus().Lost).ShouldBe((0L, 0L));
        }
    }
}
