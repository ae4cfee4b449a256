namespace Immune.Tests.Fleet;

/// <summary>
/// The same envelopes give the same view in any order, also where the view must choose: with its capacity reached and
/// many events recorded in the same instant, ties are broken by fleet identity (source, instance id, event id), never
/// by arrival; and an empty instance id is no instance id, for the incidents and the instances counted alike.
/// </summary>
public sealed class ArrivalOrderTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(At.AddMinutes(1));

    private static EventEnvelope Published(string source, string? instance, long eventId, ImmuneSeverity severity, DateTimeOffset at)
        => new($"evt_{source}_{instance}_{eventId}", ImmuneEventTypes.EventPublished, source, null, at,
            new ImmuneEventPublishedPayload(eventId, severity, ImmuneEventType.ErrorSpike, $"{source} {eventId}", at), new EventMeta("c") { InstanceId = instance });

    private static EventEnvelope Changed(EventEnvelope published, ImmuneSeverity severity, DateTimeOffset at)
        => published with
        {
            Id = published.Id + "_changed",
            Type = ImmuneEventTypes.SeverityChanged,
            Payload = new ImmuneSeverityChangedPayload(published.Payload.EventId, severity, published.Payload.Type, published.Payload.Message, published.Payload.Severity, at),
        };

    /// <summary>What a view shows, as plain values to compare.</summary>
    private static string Snapshot(ImmuneFleetView view)
    {
        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.MaxValue);
        string sources = string.Join(";", summary.Sources.Select(s => $"{s.Source}:{s.Status}:{s.ActiveIssues}:{s.CriticalIssues}:{s.Instances}"));
        string incidents = string.Join(";", view.GetIncidents(10_000).Select(i => $"{i.Source}/{i.InstanceId}/{i.EventId}/{i.Severity}"));
        return $"{summary.Status} {summary.ActiveIssues} {summary.CriticalIssues} [{sources}] [{incidents}]";
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Apply_CapacityReachedWithManyEventsInOneInstant_TheSameEventsStayInAnyOrder(int seed)
    {
        var random = new Random(seed);
        var envelopes = new List<EventEnvelope>();
        long id = 0;
        foreach (string source in new[] { "api", "billing", "checkout" })
        {
            foreach (string? instance in new[] { "a1", "b2", null })
            {
                for (int i = 0; i < 4; i++)
                {
                    EventEnvelope published = Published(source, instance, ++id, (ImmuneSeverity)random.Next(3), i == 3 ? At.AddSeconds(1) : At);
                    envelopes.Add(published);
                    if (random.Next(4) == 0)
                    {
                        envelopes.Add(Changed(published, (ImmuneSeverity)random.Next(3), At.AddSeconds(2)));
                    }
                }
            }
        }

        string? expected = null;
        for (int order = 0; order < 200; order++)
        {
            var view = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 13 }, _time);
            foreach (EventEnvelope envelope in order == 0 ? envelopes : (IEnumerable<EventEnvelope>)envelopes.OrderBy(_ => random.Next()))
            {
                view.Apply(envelope);
            }

            string snapshot = Snapshot(view);
            expected ??= snapshot;
            snapshot.ShouldBe(expected, $"order {order}");
        }

        // The 9 events of the later instant stay, and of the 27 in the first instant the 4 last by fleet identity: the
        // three of checkout/b2 and the last of checkout/a1.
        var reference = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 13 }, _time);
        envelopes.ForEach(e => reference.Apply(e));
        reference.GetHealthSummary(TimeSpan.MaxValue).Sources.Select(s => (s.Source, s.ActiveIssues, s.Instances))
            .ShouldBe([("api", 3, 3), ("billing", 3, 3), ("checkout", 7, 3)]);
    }

    [Fact]
    public void Apply_CapacityReached_AnEventInTheEarliestInstantIsCountedOnlyIfItsIdentityComesLater_ItsIncidentStaysOpenEitherWay()
    {
        var view = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 2 }, _time);
        view.Apply(Published("b", "i", 1, ImmuneSeverity.Warning, At));
        view.Apply(Published("b", "i", 2, ImmuneSeverity.Warning, At));

        view.Apply(Published("a", "i", 9, ImmuneSeverity.Critical, At)); // same instant, earlier identity: the first to leave the counted

        static string Counted(ImmuneFleetView v) => string.Join(";", v.GetHealthSummary(TimeSpan.MaxValue).Sources.Select(s => $"{s.Source}:{s.ActiveIssues}"));
        Counted(view).ShouldBe("b:2");
        view.GetIncidents().Select(i => (i.Source, i.EventId)).ShouldBe([("a", 9L), ("b", 1L), ("b", 2L)]);
        view.Apply(Published("c", "i", 3, ImmuneSeverity.Critical, At)); // same instant, later identity: b/1 leaves the counted
        Counted(view).ShouldBe("b:1;c:1");
        view.GetIncidents().Select(i => (i.Source, i.EventId)).ShouldBe([("a", 9L), ("c", 3L), ("b", 1L), ("b", 2L)]);
    }

    [Fact]
    public void Apply_EmptyAndMissingInstanceIds_AreOneInstance_ForTheSummaryAndTheIncidents()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        view.Apply(Published("api", "", 1, ImmuneSeverity.Warning, At));
        view.Apply(Published("api", null, 2, ImmuneSeverity.Warning, At));
        view.Apply(Published("api", "", 2, ImmuneSeverity.Warning, At) with { Id = "the same event, redelivered without its instance id" });

        view.GetHealthSummary(TimeSpan.MaxValue).Sources.ShouldHaveSingleItem().Instances.ShouldBe(1);
        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(2);
        view.GetIncidents().Select(i => (i.InstanceId, i.EventId)).ShouldBe([(null, 1L), ((string?)null, 2L)]);
    }
}
