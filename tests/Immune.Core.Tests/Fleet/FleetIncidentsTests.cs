using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Fleet;

/// <summary><see cref="ImmuneFleetView.GetIncidents"/>: the open WARNING and CRITICAL events of the fleet.</summary>
public sealed class FleetIncidentsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start.AddHours(1));

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    [InlineData(-1)]
    public void GetIncidents_MaxOutOfRange_Throws(int max)
    {
        var view = new ImmuneFleetView(timeProvider: _time);

        Should.Throw<ArgumentOutOfRangeException>(() => view.GetIncidents(max)).ParamName.ShouldBe("max");
    }

    [Fact]
    public void GetIncidents_CriticalFirstThenNewestFirstThenSourceInstanceAndId()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        view.Apply(Published("b", "i1", 1, ImmuneSeverity.Warning, Start.AddMinutes(1)));
        view.Apply(Published("a", "i1", 2, ImmuneSeverity.Critical, Start.AddMinutes(1)));
        view.Apply(Published("a", "i1", 3, ImmuneSeverity.Info, Start.AddMinutes(5)));
        view.Apply(Published("a", "i2", 4, ImmuneSeverity.Warning, Start.AddMinutes(3)));
        view.Apply(Published("a", "i1", 5, ImmuneSeverity.Warning, Start.AddMinutes(1)));
        view.Apply(Published("a", null, 6, ImmuneSeverity.Warning, Start.AddMinutes(1)));
        view.Apply(Published("b", "i1", 7, ImmuneSeverity.Critical, Start.AddMinutes(2)));
        view.Apply(Published("a", "i1", 8, ImmuneSeverity.Warning, Start.AddMinutes(1)));

        view.GetIncidents().Select(i => (i.Source, i.InstanceId, i.EventId, i.Severity)).ShouldBe(
        [
            ("b", "i1", 7, ImmuneSeverity.Critical),
            ("a", "i1", 2, ImmuneSeverity.Critical),
            ("a", "i2", 4, ImmuneSeverity.Warning),
            ("a", null, 6, ImmuneSeverity.Warning),
            ("a", "i1", 5, ImmuneSeverity.Warning),
            ("a", "i1", 8, ImmuneSeverity.Warning),
            ("b", "i1", 1, ImmuneSeverity.Warning),
        ]);
    }

    [Fact]
    public void GetIncidents_EveryOpenIncidentWhateverItsAge_MaxCutsTheList()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        for (int i = 0; i < 60; i++)
        {
            view.Apply(Published("a", "i1", i + 1, i % 3 == 0 ? ImmuneSeverity.Critical : ImmuneSeverity.Warning, Start.AddMinutes(i)));
        }

        _time.Advance(TimeSpan.FromDays(3)); // far past any summary window: open is open until resolved

        view.GetIncidents(max: 3).Select(i => i.EventId).ShouldBe([58, 55, 52]);
        view.GetIncidents(max: 25).Count(i => i.Severity == ImmuneSeverity.Critical).ShouldBe(20);
        view.GetIncidents(max: 10_000).Count.ShouldBe(60);
        view.GetHealthSummary(TimeSpan.FromHours(1)).ActiveIssues.ShouldBe(0);
        view.GetHealthSummary(TimeSpan.FromHours(1)).OpenIncidents.ShouldBe(60);
    }

    [Fact]
    public void GetIncidents_ResolvedToInfo_LeavesTheList_EscalatedMovesUp()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope first = Published("a", "i1", 1, ImmuneSeverity.Critical, Start);
        EventEnvelope second = Published("a", "i1", 2, ImmuneSeverity.Warning, Start.AddSeconds(1));
        EventEnvelope third = Published("a", "i1", 3, ImmuneSeverity.Info, Start.AddSeconds(2));
        view.Apply(first);
        view.Apply(second);
        view.Apply(third);

        view.Apply(Changed(first, ImmuneSeverity.Info, Start.AddMinutes(1)));
        view.Apply(Changed(third, ImmuneSeverity.Critical, Start.AddMinutes(1)));

        view.GetIncidents().Select(i => (i.EventId, i.Severity)).ShouldBe([(3L, ImmuneSeverity.Critical), (2L, ImmuneSeverity.Warning)]);
        view.Apply(Changed(second, ImmuneSeverity.Info, Start.AddMinutes(2)));
        view.GetIncidents().Select(i => i.EventId).ShouldBe([3L]);
    }

    [Fact]
    public void GetIncidents_CarriesTheEventsFactsAndItsLatestObservation()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope published = Published("checkout", "i1", 7, ImmuneSeverity.Warning, Start, "disk 91% full", agent: "agent-7", module: "disk");
        view.Apply(Repeated(published, ImmuneSeverity.Warning, Start.AddMinutes(3), occurrences: 40));
        view.Apply(Repeated(published, ImmuneSeverity.Warning, Start.AddMinutes(2), occurrences: 12)); // late, and older
        view.Apply(published);

        view.GetIncidents().ShouldHaveSingleItem().ShouldBe(new ImmuneFleetIncident
        {
            Source = "checkout",
            InstanceId = "i1",
            EventId = 7,
            Severity = ImmuneSeverity.Warning,
            Type = ImmuneEventType.ErrorSpike,
            Message = "disk 91% full",
            AgentId = "agent-7",
            Module = "disk",
            RecordedAt = Start,
            ChangedAt = Start.AddMinutes(3),
            Occurrences = 40,
            LastSeenAt = Start.AddMinutes(3), // the latest envelope of its instance
        });
    }

    [Fact]
    public void GetIncidents_WaitsForThePublication_AndAnOpenIncidentOutlivesTheRetainedEvents()
    {
        var view = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 3 }, _time);
        EventEnvelope early = Published("a", "i1", 1, ImmuneSeverity.Critical, Start);
        view.Apply(Critical(early, Start.AddSeconds(1))); // its publication has not arrived: not counted yet
        view.GetIncidents().ShouldBeEmpty();

        view.Apply(early);
        for (int i = 2; i <= 4; i++)
        {
            view.Apply(Published("a", "i1", i, ImmuneSeverity.Warning, Start.AddMinutes(i)));
        }

        view.GetIncidents().Select(i => i.EventId).ShouldBe([1L, 4L, 3L, 2L]); // event 1 left the counted events, not the incidents
        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(3);
    }

    [Fact]
    public void GetIncidents_HugeTexts_KeepsAtMost4096CharactersAndNeverHalfASurrogatePair()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        string huge = new string('x', 4095) + "\U0001F525" + new string('y', 100_000);
        view.Apply(Published("a", "i1", 1, ImmuneSeverity.Critical, Start, huge, agent: huge, module: new string('m', 5000)));

        ImmuneFleetIncident incident = view.GetIncidents().ShouldHaveSingleItem();
        incident.Message.ShouldBe(new string('x', 4095));
        incident.AgentId.ShouldBe(new string('x', 4095));
        incident.Module.ShouldBe(new string('m', 4096));
    }

    /// <summary>
    /// The property: real services publish, escalate and resolve on one clock; their envelopes reach two views, one in
    /// order and one shuffled with redeliveries. Both list the same incidents, and those are the producers' own open
    /// WARNING and CRITICAL events in the window, in the contract's order.
    /// </summary>
    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    public async Task GetIncidents_EnvelopesInAnyOrder_SameListAsTheProducersOpenEvents(int seed)
    {
        var random = new Random(seed);
        var producers = new List<(string Source, ImmuneService Service, InMemoryEventStream Stream)>();
        foreach (string source in new[] { "checkout", "checkout", "payments" })
        {
            var stream = new InMemoryEventStream();
            producers.Add((source, new ImmuneService(stream, new ImmuneOptions { Source = source, Delivery = ImmuneDelivery.Inline }, timeProvider: _time), stream));
        }

        for (int step = 0; step < 500; step++)
        {
            ImmuneService service = producers[random.Next(producers.Count)].Service;
            var severity = (ImmuneSeverity)random.Next(3);
            IReadOnlyList<ImmuneEvent> recent = service.GetRecentEvents(TimeSpan.MaxValue);
            if (recent.Count > 0 && random.Next(3) == 0)
            {
                await service.ChangeSeverityAsync(recent[random.Next(recent.Count)].Id, severity);
                _time.Advance(TimeSpan.FromTicks(1));
            }
            else
            {
                await service.PublishAsync(new NewImmuneEvent(severity, (ImmuneEventType)random.Next(3), $"step {step}") { Module = $"m{step % 4}" });
            }

            _time.Advance(TimeSpan.FromSeconds(random.Next(0, 3)));
        }

        List<EventEnvelope> envelopes = [.. producers.SelectMany(p => p.Stream.Envelopes)];
        var inOrder = new ImmuneFleetView(timeProvider: _time);
        var shuffled = new ImmuneFleetView(timeProvider: _time);
        envelopes.ForEach(e => inOrder.Apply(e));
        foreach (EventEnvelope envelope in envelopes.Concat(envelopes.Where(_ => random.Next(4) == 0)).OrderBy(_ => random.Next()))
        {
            shuffled.Apply(envelope);
        }

        foreach (int max in new[] { 1, 17, 10_000 })
        {
            {
                IReadOnlyList<ImmuneFleetIncident> listed = shuffled.GetIncidents(max);
                listed.ShouldBe(inOrder.GetIncidents(max), $"max {max}");

                var expected = producers
                    .SelectMany(p => p.Service.GetRecentEvents(TimeSpan.MaxValue).Select(e => (p.Source, p.Service.InstanceId, Event: e)))
                    .Where(x => x.Event.Severity != ImmuneSeverity.Info)
                    .OrderByDescending(x => x.Event.Severity)
                    .ThenByDescending(x => x.Event.CreatedAt)
                    .ThenBy(x => x.Source, StringComparer.Ordinal)
                    .ThenBy(x => x.InstanceId, StringComparer.Ordinal)
                    .ThenBy(x => x.Event.Id)
                    .Take(max)
                    .Select(x => (x.Source, (string?)x.InstanceId, x.Event.Id, x.Event.Severity, x.Event.Message, x.Event.Module, x.Event.CreatedAt));
                listed.Select(i => (i.Source, i.InstanceId, i.EventId, i.Severity, i.Message, i.Module, i.RecordedAt)).ShouldBe(expected, $"max {max}");
            }
        }

        foreach (var (_, service, _) in producers)
        {
            await service.DisposeAsync();
        }
    }

    private static EventEnvelope Published(string source, string? instance, long eventId, ImmuneSeverity severity, DateTimeOffset at, string message = "m", string? agent = null, string? module = null)
        => new($"evt_{source}_{instance}_{eventId}_p", ImmuneEventTypes.EventPublished, source, null, at,
            new ImmuneEventPublishedPayload(eventId, severity, ImmuneEventType.ErrorSpike, message, at) { AgentId = agent, Module = module },
            new EventMeta("c") { InstanceId = instance });

    private static EventEnvelope Changed(EventEnvelope before, ImmuneSeverity severity, DateTimeOffset at)
        => before with
        {
            Id = $"{before.Id}_changed_{severity}_{at.UtcTicks}",
            Type = ImmuneEventTypes.SeverityChanged,
            Timestamp = at,
            Payload = new ImmuneSeverityChangedPayload(before.Payload.EventId, severity, before.Payload.Type, before.Payload.Message, before.Payload.Severity, at),
        };

    private static EventEnvelope Repeated(EventEnvelope published, ImmuneSeverity severity, DateTimeOffset at, long occurrences)
        => published with
        {
            Id = $"{published.Id}_repeated_{at.UtcTicks}",
            Type = ImmuneEventTypes.EventRepeated,
            Timestamp = at,
            Payload = new ImmuneEventRepeatedPayload(published.Payload.EventId, severity, published.Payload.Type, published.Payload.Message, occurrences, published.Timestamp, at)
            {
                AgentId = published.Payload.AgentId, Module = published.Payload.Module,
            },
        };

    private static EventEnvelope Critical(EventEnvelope published, DateTimeOffset at)
        => published with
        {
            Id = $"{published.Id}_critical_{at.UtcTicks}",
            Type = ImmuneEventTypes.CriticalEvent,
            Timestamp = at,
            Payload = new ImmuneCriticalEventPayload(published.Payload.EventId, ImmuneSeverity.Critical, published.Payload.Type, published.Payload.Message, at),
        };
}
