using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Fleet;

/// <summary>
/// Every time a producer writes about an event is consistent with the times it wrote before, on the wire (milliseconds),
/// whatever its clock does: so a fleet view, which lets the latest observation win, agrees with the producer in any
/// arrival order. Real services, envelopes through <see cref="ImmuneJson"/>.
/// </summary>
public sealed class ProducerTimesTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private readonly InMemoryEventStream _stream = new(100_000);

    /// <summary>The producer's envelopes as a consumer reads them: written and read back as JSON.</summary>
    private List<EventEnvelope> Wire() => [.. _stream.Envelopes.Select(e => ImmuneJson.DeserializeEnvelope(ImmuneJson.SerializeToUtf8Bytes(e)))];

    private static ImmuneFleetSummary View(IEnumerable<EventEnvelope> envelopes)
    {
        var view = new ImmuneFleetView(timeProvider: new FakeTimeProvider(Start.AddHours(1)));
        foreach (EventEnvelope envelope in envelopes) view.Apply(envelope);
        return view.GetHealthSummary(TimeSpan.FromDays(1));
    }

    [Fact]
    public async Task ChangeSeverityAsync_ClockStandsStill_EscalationAndResolutionOrderedOnTheWireSoTheViewAgreesInAnyOrder()
    {
        var clock = new FakeTimeProvider(Start); // never advanced: every change in the same instant
        await using (var service = new ImmuneService(_stream, new ImmuneOptions { RetentionCapacity = 1_000 }, timeProvider: clock))
        {
            for (int i = 0; i < 200; i++)
            {
                long id = await service.PublishAsync(Events.Warning($"w{i}"));
                await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical);
                await service.ChangeSeverityAsync(id, ImmuneSeverity.Warning);
            }

            service.GetHealthSummary().CriticalIssues.ShouldBe(0);
        }

        List<EventEnvelope> wire = Wire();
        View(wire).CriticalIssues.ShouldBe(0);
        View(Enumerable.Reverse(wire)).CriticalIssues.ShouldBe(0);
        for (int seed = 1; seed <= 5; seed++)
        {
            var random = new Random(seed);
            View(wire.OrderBy(_ => random.Next())).ShouldSatisfyAllConditions(
                s => s.CriticalIssues.ShouldBe(0),
                s => s.CountsBySeverity[ImmuneSeverity.Warning].ShouldBe(200));
        }

        foreach (IGrouping<long, EventEnvelope> changes in wire.Where(e => e.Type == ImmuneEventTypes.SeverityChanged).GroupBy(e => e.Payload.EventId))
        {
            changes.Select(e => e.Timestamp).ShouldBeInOrder(SortDirection.Ascending);
            changes.Select(e => e.Timestamp).Distinct().Count().ShouldBe(2); // strictly: a millisecond apart at least
        }
    }

    [Fact]
    public async Task ChangeSeverityAsync_ClockStepsBack_ChangeIsStampedAfterThePublicationAndTheViewCountsIt()
    {
        var clock = new ManualClock(Start);
        await using (var service = new ImmuneService(_stream, timeProvider: clock))
        {
            long id = await service.PublishAsync(Events.Warning());
            clock.Now = Start - TimeSpan.FromMinutes(1);
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical);
            service.GetHealthSummary(TimeSpan.FromDays(1)).CriticalIssues.ShouldBe(1);
        }

        List<EventEnvelope> wire = Wire();
        EventEnvelope change = wire.Single(e => e.Type == ImmuneEventTypes.SeverityChanged);
        change.Payload.ShouldBeOfType<ImmuneSeverityChangedPayload>().ChangedAt.ShouldBeGreaterThan(wire[0].Timestamp);
        View(wire).CriticalIssues.ShouldBe(1);
        View(Enumerable.Reverse(wire)).CriticalIssues.ShouldBe(1);
    }
}
