using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Fleet;

public sealed class ImmuneFleetViewTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public void Constructor_InvalidCapacity_NamesTheOption()
    {
        var exception = Should.Throw<ArgumentException>(() => new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 0 }));

        exception.ParamName.ShouldBe("options");
        exception.Message.ShouldStartWith("Invalid ImmuneFleetOptions: RetentionCapacity must be from 1 to 10,000,000 (was 0).");
    }

    [Fact]
    public void Constructor_KeepsACopyOfTheOptions()
    {
        var options = new ImmuneFleetOptions { RetentionCapacity = 1 };
        var view = new ImmuneFleetView(options, _time);
        options.RetentionCapacity = 100;

        view.Apply(Published("a", "i1", 1, ImmuneSeverity.Info, Start));
        view.Apply(Published("a", "i1", 2, ImmuneSeverity.Info, Start.AddSeconds(1)));

        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(1);
    }

    [Fact]
    public void Apply_BadEnvelope_ThrowsAndChangesNothing()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope good = Published("a", "i1", 1, ImmuneSeverity.Info, Start);

        Should.Throw<ArgumentNullException>(() => view.Apply(null!)).ParamName.ShouldBe("envelope");
        Should.Throw<ArgumentNullException>(() => view.Apply(good with { Id = null! })).ParamName.ShouldBe("envelope.Id");
        Should.Throw<ArgumentNullException>(() => view.Apply(good with { Source = null! })).ParamName.ShouldBe("envelope.Source");
        Should.Throw<ArgumentNullException>(() => view.Apply(good with { Payload = null! })).ParamName.ShouldBe("envelope.Payload");
        Should.Throw<ArgumentException>(() => view.Apply(good with { Payload = good.Payload with { Severity = (ImmuneSeverity)9 } }))
            .ParamName.ShouldBe("envelope.Payload.Severity");

        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(0);
        view.Apply(good).ShouldBeTrue(); // the failed attempts did not remember the id
    }

    [Fact]
    public void Apply_SameEnvelopeTwice_ReturnsFalseAndCountsOnce()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope envelope = Published("a", "i1", 1, ImmuneSeverity.Critical, Start);

        view.Apply(envelope).ShouldBeTrue();
        view.Apply(envelope).ShouldBeFalse();
        view.Apply(envelope with { }).ShouldBeFalse();

        view.GetHealthSummary(TimeSpan.MaxValue).CriticalIssues.ShouldBe(1);
    }

    [Fact]
    public void Apply_RedeliveryUnderANewId_StillCountsTheEventOnce()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope envelope = Published("a", "i1", 1, ImmuneSeverity.Warning, Start);

        view.Apply(envelope).ShouldBeTrue();
        view.Apply(envelope with { Id = "evt_other" }).ShouldBeTrue();

        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(1);
    }

    [Fact]
    public void Apply_SameEventIdFromOtherInstancesOrSources_CountsEachEvent()
    {
        var view = new ImmuneFleetView(timeProvider: _time);

        view.Apply(Published("a", "i1", 1, ImmuneSeverity.Critical, Start));
        view.Apply(Published("a", "i2", 1, ImmuneSeverity.Critical, Start));
        view.Apply(Published("b", "i1", 1, ImmuneSeverity.Critical, Start));
        view.Apply(Published("b", null, 1, ImmuneSeverity.Critical, Start));

        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.MaxValue);
        summary.CriticalIssues.ShouldBe(4);
        summary.Sources.Select(s => (s.Source, s.ActiveIssues, s.Instances)).ShouldBe([("a", 2, 2), ("b", 2, 2)]);
    }

    [Fact]
    public void Apply_SeverityChangedBeforeItsPublication_EndsChanged()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope published = Published("a", "i1", 1, ImmuneSeverity.Critical, Start);
        EventEnvelope resolved = Changed(published, ImmuneSeverity.Info, Start.AddSeconds(5));

        view.Apply(resolved);
        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(0); // recording time not known yet
        view.Apply(published);

        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.MaxValue);
        summary.ActiveIssues.ShouldBe(1);
        summary.CriticalIssues.ShouldBe(0);
        summary.CountsBySeverity[ImmuneSeverity.Info].ShouldBe(1);
        summary.Status.ShouldBe(ImmuneHealthStatus.Healthy);
    }

    [Fact]
    public void Apply_EscalationAndResolutionAtTheSameInstant_ChangeWinsOverCriticalEvent()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope published = Published("a", "i1", 1, ImmuneSeverity.Warning, Start);
        EventEnvelope resolved = Changed(published, ImmuneSeverity.Info, Start);
        EventEnvelope critical = Critical(published, Start);

        view.Apply(published);
        view.Apply(resolved);
        view.Apply(critical); // the escalation's critical_event, arriving after the resolution made at the same instant

        view.GetHealthSummary(TimeSpan.MaxValue).CountsBySeverity[ImmuneSeverity.Info].ShouldBe(1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Apply_TwoChangesInOneMillisecond_AreOrderedByTheirChain(bool reversed)
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope published = Published("a", "i1", 1, ImmuneSeverity.Warning, Start);
        EventEnvelope escalated = Changed(published, ImmuneSeverity.Critical, Start.AddSeconds(1));
        EventEnvelope resolved = Changed(escalated, ImmuneSeverity.Info, Start.AddSeconds(1));
        view.Apply(published);

        view.Apply(reversed ? resolved : escalated);
        view.Apply(reversed ? escalated : resolved);

        view.GetHealthSummary(TimeSpan.MaxValue).CountsBySeverity[ImmuneSeverity.Info].ShouldBe(1);
    }

    [Fact]
    public void Apply_RepeatReport_IsAnObservationAtItsTime()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope published = Published("a", "i1", 1, ImmuneSeverity.Warning, Start);
        EventEnvelope earlyReport = Repeated(published, ImmuneSeverity.Warning, Start.AddSeconds(10));
        EventEnvelope escalated = Changed(published, ImmuneSeverity.Critical, Start.AddSeconds(20));
        EventEnvelope lateReport = Repeated(published, ImmuneSeverity.Info, Start.AddSeconds(30)) with { Id = "late" };

        view.Apply(escalated);
        view.Apply(earlyReport).ShouldBeTrue(); // older than the escalation: changes nothing
        view.Apply(published);
        view.GetHealthSummary(TimeSpan.MaxValue).CriticalIssues.ShouldBe(1);

        view.Apply(lateReport); // made after a resolution the view has not seen: its severity is the latest known
        view.GetHealthSummary(TimeSpan.MaxValue).CountsBySeverity[ImmuneSeverity.Info].ShouldBe(1);
        view.GetHealthSummary(TimeSpan.MaxValue).ActiveIssues.ShouldBe(1);
    }

    [Fact]
    public void GetHealthSummary_JudgesTheWindowOnRecordingTime()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope old = Published("a", "i1", 1, ImmuneSeverity.Critical, Start);
        view.Apply(old);
        view.Apply(Published("a", "i2", 1, ImmuneSeverity.Warning, Start.AddMinutes(10)));
        view.Apply(Published("b", "i3", 1, ImmuneSeverity.Info, Start.AddMinutes(12)));
        _time.SetUtcNow(Start.AddMinutes(15));
        view.Apply(Changed(old, ImmuneSeverity.Critical, Start.AddMinutes(14))); // a late change does not move it into the window

        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.FromMinutes(5));

        summary.GeneratedAt.ShouldBe(Start.AddMinutes(15));
        summary.Window.ShouldBe(TimeSpan.FromMinutes(5));
        summary.ActiveIssues.ShouldBe(2);
        summary.Status.ShouldBe(ImmuneHealthStatus.Degraded);
        summary.CountsByType.Values.Sum().ShouldBe(2);
        summary.Sources.Count.ShouldBe(2);
        // In the window: its WARNING; open, whatever the window: that WARNING and the old CRITICAL.
        summary.Sources[0].ShouldBe(new ImmuneSourceHealth { Source = "a", Status = ImmuneHealthStatus.Degraded, ActiveIssues = 1, CriticalIssues = 0, Instances = 1, OpenIncidents = 2, OpenCriticalIncidents = 1 });
        summary.Sources[1].ShouldBe(new ImmuneSourceHealth { Source = "b", Status = ImmuneHealthStatus.Healthy, ActiveIssues = 1, CriticalIssues = 0, Instances = 1 });
        view.GetHealthSummary(TimeSpan.FromMinutes(15)).Sources[0].Instances.ShouldBe(2);
        view.GetHealthSummary(TimeSpan.Zero).ActiveIssues.ShouldBe(0);
        Should.Throw<ArgumentOutOfRangeException>(() => view.GetHealthSummary(TimeSpan.FromTicks(-1)));
    }

    [Fact]
    public void Apply_Full_ForgetsTheEarliestRecordedAndIgnoresEarlierOnes()
    {
        var view = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 2 }, _time);
        view.Apply(Published("a", "i1", 1, ImmuneSeverity.Critical, Start.AddMinutes(1)));
        view.Apply(Published("a", "i1", 2, ImmuneSeverity.Info, Start.AddMinutes(3)));

        view.Apply(Published("b", "i2", 1, ImmuneSeverity.Warning, Start.AddMinutes(2))).ShouldBeTrue(); // pushes out a/1
        view.Apply(Published("c", "i3", 1, ImmuneSeverity.Critical, Start)).ShouldBeTrue(); // earlier than all: not counted

        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.MaxValue);
        summary.ActiveIssues.ShouldBe(2);
        summary.CriticalIssues.ShouldBe(0);
        summary.Sources.Select(s => s.Source).ShouldBe(["a", "b"]);
    }

    [Fact]
    public void Apply_ManyEventsWaitingForTheirPublication_KeepsAtMostCapacityWaiting()
    {
        var view = new ImmuneFleetView(new ImmuneFleetOptions { RetentionCapacity = 2 }, _time);
        EventEnvelope[] published = [.. Enumerable.Range(1, 3).Select(id => Published("a", "i1", id, ImmuneSeverity.Warning, Start))];
        foreach (EventEnvelope envelope in published)
        {
            view.Apply(Changed(envelope, ImmuneSeverity.Critical, Start.AddSeconds(1)));
        }

        view.Apply(published[0]);
        view.Apply(published[2]);

        // The first change was forgotten when the third arrived: event 1 counts at its published severity.
        ImmuneFleetSummary summary = view.GetHealthSummary(TimeSpan.MaxValue);
        summary.ActiveIssues.ShouldBe(2);
        summary.CriticalIssues.ShouldBe(1);
        summary.CountsBySeverity[ImmuneSeverity.Warning].ShouldBe(1);
    }

    [Fact]
    public void Apply_PayloadItDoesNotKnow_IsRememberedAndIgnored()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        EventEnvelope published = Published("a", "i1", 1, ImmuneSeverity.Info, Start);
        EventEnvelope unknown = published with { Id = "evt_future", Type = "immune.from_the_future", Payload = new FuturePayload(1) };

        view.Apply(unknown).ShouldBeTrue();
        view.Apply(unknown).ShouldBeFalse();
        view.Apply(published);

        view.GetHealthSummary(TimeSpan.MaxValue).CountsBySeverity[ImmuneSeverity.Info].ShouldBe(1);
    }

    /// <summary>
    /// The fleet property: several real services (two sharing a source, one restarted) publish and change severities;
    /// their envelopes reach the view shuffled and partly redelivered. The view's summary equals the sum of the
    /// services' own summaries, per source and in total, for every window.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public async Task Apply_EnvelopesOfAFleetInAnyOrder_SummaryEqualsTheProducers(int seed)
    {
        var random = new Random(seed);
        var fleet = new Fleet(_time);
        fleet.Start("checkout");
        fleet.Start("checkout");
        fleet.Start("payments");
        for (int step = 0; step < 600; step++)
        {
            if (step == 300)
            {
                await fleet.RestartAsync(0); // a restarted instance: ids start at 1 again, under a new instance id
            }

            await fleet.StepAsync(random);
        }

        IReadOnlyList<EventEnvelope> envelopes = await fleet.EnvelopesAsync();
        var view = new ImmuneFleetView(timeProvider: _time);
        var deliveries = envelopes.Concat(envelopes.Where(_ => random.Next(4) == 0)).OrderBy(_ => random.Next()).ToList();
        int applied = deliveries.Count(view.Apply);

        applied.ShouldBe(envelopes.Count);
        foreach (TimeSpan window in new[] { TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(7), TimeSpan.MaxValue })
        {
            fleet.ShouldMatch(view.GetHealthSummary(window), window);
        }
    }

    [Fact]
    public async Task Apply_FromManyThreads_SameSummaryAsOneThread()
    {
        var random = new Random(21);
        var fleet = new Fleet(_time);
        fleet.Start("checkout");
        fleet.Start("payments");
        for (int step = 0; step < 1_000; step++)
        {
            await fleet.StepAsync(random);
        }

        IReadOnlyList<EventEnvelope> envelopes = await fleet.EnvelopesAsync();
        var deliveries = envelopes.Concat(envelopes).OrderBy(_ => random.Next()).ToArray();
        var view = new ImmuneFleetView(timeProvider: _time);
        int applied = 0;

        Parallel.ForEach(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 4 }, envelope =>
        {
            if (view.Apply(envelope)) Interlocked.Increment(ref applied);
        });

        applied.ShouldBe(envelopes.Count);
        fleet.ShouldMatch(view.GetHealthSummary(TimeSpan.FromMinutes(5)), TimeSpan.FromMinutes(5));
    }

    internal static EventEnvelope Published(string source, string? instance, long eventId, ImmuneSeverity severity, DateTimeOffset at)
        => new($"evt_{source}_{instance}_{eventId}_p", ImmuneEventTypes.EventPublished, source, null, at,
            new ImmuneEventPublishedPayload(eventId, severity, ImmuneEventType.ErrorSpike, "m", at), new EventMeta("c") { InstanceId = instance });

    private static EventEnvelope Changed(EventEnvelope before, ImmuneSeverity severity, DateTimeOffset at)
        => before with
        {
            Id = $"{before.Id}_changed_{severity}_{at.UtcTicks}",
            Type = ImmuneEventTypes.SeverityChanged,
            Timestamp = at,
            Payload = new ImmuneSeverityChangedPayload(before.Payload.EventId, severity, before.Payload.Type, "m", before.Payload.Severity, at),
        };

    private static EventEnvelope Repeated(EventEnvelope published, ImmuneSeverity severity, DateTimeOffset at)
        => published with
        {
            Id = $"{published.Id}_repeated_{at.UtcTicks}",
            Type = ImmuneEventTypes.EventRepeated,
            Timestamp = at,
            Payload = new ImmuneEventRepeatedPayload(published.Payload.EventId, severity, published.Payload.Type, "m", 5, published.Timestamp, at),
        };

    private static EventEnvelope Critical(EventEnvelope published, DateTimeOffset at)
        => published with
        {
            Id = $"{published.Id}_critical_{at.UtcTicks}",
            Type = ImmuneEventTypes.CriticalEvent,
            Timestamp = at,
            Payload = new ImmuneCriticalEventPayload(published.Payload.EventId, ImmuneSeverity.Critical, published.Payload.Type, "m", at),
        };

    /// <summary>Event counts by severity, as a producer's summary gives them.</summary>
    private sealed record Tally(Dictionary<ImmuneSeverity, int> BySeverity)
    {
        public int Active => BySeverity.Values.Sum();

        public int Critical => BySeverity[ImmuneSeverity.Critical];

        public static Tally From(ImmuneHealthSummary summary) => new(summary.CountsBySeverity.ToDictionary());

        public static Tally Sum(IEnumerable<Tally> tallies)
            => new(Enum.GetValues<ImmuneSeverity>().ToDictionary(s => s, s => tallies.Sum(t => t.BySeverity[s])));
    }

    private sealed record FuturePayload(long EventId) : ImmunePayload(EventId, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "m");

    /// <summary>Real services on one fake clock, each with its own in-memory stream, driven by random steps. Inline
    /// delivery: nothing is in flight when the test moves the clock, so no attempt times out on it.</summary>
    private sealed class Fleet(FakeTimeProvider time)
    {
        private readonly List<(string Source, ImmuneService Service, InMemoryEventStream Stream)> _live = [];
        private readonly List<EventEnvelope> _retired = [];

        public void Start(string source)
        {
            var stream = new InMemoryEventStream();
            _live.Add((source, new ImmuneService(stream, new ImmuneOptions { Source = source, Delivery = ImmuneDelivery.Inline }, timeProvider: time), stream));
        }

        public async Task RestartAsync(int index)
        {
            var (source, service, stream) = _live[index];
            await service.DisposeAsync();
            _retired.AddRange(stream.Envelopes);
            var fresh = new InMemoryEventStream();
            _live[index] = (source, new ImmuneService(fresh, new ImmuneOptions { Source = source, Delivery = ImmuneDelivery.Inline }, timeProvider: time), fresh);
        }

        /// <summary>Publishes or changes a severity at a random producer, then moves the clock; never two changes at one instant.</summary>
        public async Task StepAsync(Random random)
        {
            ImmuneService service = _live[random.Next(_live.Count)].Service;
            var severity = (ImmuneSeverity)random.Next(3);
            IReadOnlyList<ImmuneEvent> recent = service.GetRecentEvents();
            if (recent.Count > 0 && random.Next(3) == 0)
            {
                await service.ChangeSeverityAsync(recent[random.Next(recent.Count)].Id, severity);
                time.Advance(TimeSpan.FromTicks(1));
            }
            else
            {
                await service.PublishAsync(new NewImmuneEvent(severity, (ImmuneEventType)random.Next(3), "step"));
            }

            time.Advance(TimeSpan.FromSeconds(random.Next(0, 3)));
        }

        public async Task<IReadOnlyList<EventEnvelope>> EnvelopesAsync()
        {
            foreach (var (_, service, _) in _live)
            {
                await service.Flushed();
            }

            return [.. _retired, .. _live.SelectMany(p => p.Stream.Envelopes)];
        }

        /// <summary>What the producers recorded, per source and in total; the restarted instance's first life counts too.</summary>
        public void ShouldMatch(ImmuneFleetSummary summary, TimeSpan window)
        {
            var records = _live.Select(p => (p.Source, Tally: Tally.From(p.Service.GetHealthSummary(window)))).ToList();
            records.Add((_live[0].Source, Retired(window)));

            Tally total = Tally.Sum(records.Select(r => r.Tally));
            summary.ActiveIssues.ShouldBe(total.Active, $"window {window}");
            summary.CriticalIssues.ShouldBe(total.Critical);
            foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
            {
                summary.CountsBySeverity[severity].ShouldBe(total.BySeverity[severity]);
            }

            var expected = records.GroupBy(r => r.Source)
                .Select(g => (Source: g.Key, Tally: Tally.Sum(g.Select(r => r.Tally)), Instances: g.Count(r => r.Tally.Active > 0)))
                .Where(s => s.Tally.Active > 0)
                .OrderBy(s => s.Source, StringComparer.Ordinal)
                .Select(s => new ImmuneSourceHealth
                {
                    Source = s.Source,
                    Status = s.Tally.BySeverity[ImmuneSeverity.Critical] > 0 ? ImmuneHealthStatus.Critical
                        : s.Tally.BySeverity[ImmuneSeverity.Warning] > 0 ? ImmuneHealthStatus.Degraded : ImmuneHealthStatus.Healthy,
                    ActiveIssues = s.Tally.Active,
                    CriticalIssues = s.Tally.Critical,
                    Instances = s.Instances,
                });
            summary.Sources.Select(s => s with { OpenIncidents = 0, OpenCriticalIncidents = 0 }).ShouldBe(expected.ToList(), $"window {window}");
        }

        /// <summary>The retired instance's events in the window at their final severity, folded from its own envelopes.</summary>
        private Tally Retired(TimeSpan window)
        {
            DateTimeOffset from = window == TimeSpan.MaxValue ? DateTimeOffset.MinValue : time.GetUtcNow() - window;
            var final = new Dictionary<long, (DateTimeOffset RecordedAt, ImmuneSeverity Severity)>();
            foreach (EventEnvelope envelope in _retired)
            {
                switch (envelope.Payload)
                {
                    case ImmuneEventPublishedPayload p: final[p.EventId] = (p.PublishedAt, p.Severity); break;
                    case ImmuneSeverityChangedPayload c: final[c.EventId] = (final[c.EventId].RecordedAt, c.Severity); break;
                }
            }

            var inWindow = final.Values.Where(e => e.RecordedAt >= from).ToList();
            return new Tally(Enum.GetValues<ImmuneSeverity>().ToDictionary(s => s, s => inWindow.Count(e => e.Severity == s)));
        }
    }
}
