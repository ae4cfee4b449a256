using Immune.Tests.TestDoubles;

namespace Immune.Tests.Delivery;

/// <summary>
/// A CRITICAL publish (or an escalation to CRITICAL) is two envelopes, its own and <c>immune.critical_event</c>; they
/// are admitted or shed together, by the memory queue and by the spool, so a pager never pages for an event no fleet
/// view counts.
/// </summary>
public sealed class CriticalPairTests : IDisposable
{
    private readonly TempDirectory _spool = new();

    public void Dispose() => _spool.Dispose();

    /// <summary>Fails unless every event whose <c>immune.critical_event</c> arrived also had its publication (or change) arrive before it.</summary>
    private static void ShouldHaveNoHalfPairs(IEnumerable<EventEnvelope> accepted)
    {
        var leads = new HashSet<long>();
        foreach (EventEnvelope envelope in accepted)
        {
            if (envelope.Type == ImmuneEventTypes.CriticalEvent)
            {
                leads.ShouldContain(envelope.Payload.EventId, $"the critical event of {envelope.Payload.EventId} arrived without its publication");
            }
            else
            {
                leads.Add(envelope.Payload.EventId);
            }
        }
    }

    [Fact]
    public async Task QueueFullOfCriticalEnvelopes_ShedsWholePublishes_NeverKeepsACriticalEventWithoutItsPublication()
    {
        var release = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(release);
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = 3, MaxBatchSize = 1, ShutdownTimeout = TimeSpan.Zero });

        await service.PublishAsync(Events.Critical("e1")); // its publication is taken by the loop and held; its critical event waits
        await stream.WhenCalled(1);
        for (int i = 2; i <= 20; i++)
        {
            await service.PublishAsync(Events.Critical($"e{i}"));
        }

        release.SetResult();
        await service.Flushed();

        ShouldHaveNoHalfPairs(stream.Accepted);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        stream.Accepted.TakeLast(2).Select(e => (e.Type, e.Payload.Message)).ShouldBe([(ImmuneEventTypes.EventPublished, "e20"), (ImmuneEventTypes.CriticalEvent, "e20")]);
    }

    [Fact]
    public async Task QueueOfOne_ACriticalPublishStillGoesOutWhole()
    {
        var stream = new InMemoryEventStream();
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = 1, MaxBatchSize = 1 });

        for (int i = 0; i < 50; i++)
        {
            await service.PublishAsync(Events.Critical($"e{i}"));
        }

        await service.Flushed();
        ShouldHaveNoHalfPairs(stream.Envelopes);
        stream.Envelopes.Count(e => e.Type == ImmuneEventTypes.CriticalEvent).ShouldBeGreaterThan(0);
        service.GetDeliveryStats().ShouldBeBalanced();
    }

    [Fact]
    public async Task SpoolNearlyFull_ACriticalPublishsEnvelopesAreWrittenOrShedTogether()
    {
        var release = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(release);
        await using var service = new ImmuneService(stream, new ImmuneOptions
        {
            SpoolDirectory = _spool.Path, SpoolCapacityBytes = 1 << 20, QueueCapacity = 100_000, ShutdownTimeout = TimeSpan.Zero,
        });
        string big = new('x', 4000);
        for (int i = 0; i < 1_000 && service.GetDeliveryStats().DroppedSpoolFull == 0; i++)
        {
            await service.PublishAsync(Events.Info(big)); // up to the INFO limit: the last tenth is kept for CRITICAL
        }

        // CRITICAL publishes of every size from 4,000 characters down, one character less each time: whatever room is
        // left, some pair meets it at every possible offset from a record's size.
        for (int length = 4000; length > 3000; length--)
        {
            await service.PublishAsync(Events.Critical($"{length} " + new string('c', length)));
        }

        service.GetDeliveryStats().DroppedSpoolFull.ShouldBeGreaterThan(2); // the spool filled up with CRITICAL too
        release.SetResult();
        await service.Flushed();

        ShouldHaveNoHalfPairs(stream.Accepted);
        foreach (IGrouping<long, EventEnvelope> critical in stream.Accepted.Where(e => e.Payload.Severity == ImmuneSeverity.Critical).GroupBy(e => e.Payload.EventId))
        {
            critical.Count().ShouldBe(2, $"event {critical.Key} went out as half a publish");
        }

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        (stats.DroppedSpoolFull % 2).ShouldBe(1L, "one INFO, then whole CRITICAL publishes");
    }
}
