using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Folding;

public sealed class ImmuneServiceFoldingTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryEventStream _stream = new();

    private ImmuneService CreateService(Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions { FoldWindow = Window };
        configure?.Invoke(options);
        return new ImmuneService(_stream, options, timeProvider: _time);
    }

    private EventEnvelope[] Of(string type) => [.. _stream.Envelopes.Where(e => e.Type == type)];

    [Fact]
    public void Constructor_NegativeFoldWindow_NamesTheOption()
    {
        var exception = Should.Throw<ArgumentException>(() => new ImmuneService(options: new ImmuneOptions { FoldWindow = TimeSpan.FromTicks(-1) }));

        exception.Message.ShouldContain("FoldWindow must be from 00:00:00 to");
    }

    [Fact]
    public async Task PublishAsync_RetentionFullAndTheOldestRepeated_FoldsIntoTheOldestInsteadOfEvictingIt()
    {
        await using ImmuneService service = CreateService(o => o.RetentionCapacity = 2);
        long a = await service.PublishAsync(Events.Warning("A"));
        long b = await service.PublishAsync(Events.Warning("B"));

        (await service.PublishAsync(Events.Warning("A"))).ShouldBe(a); // A is the oldest of a full store, and still retained
        for (int i = 0; i < 10; i++)
        {
            (await service.PublishAsync(Events.Warning(i % 2 == 0 ? "B" : "A"))).ShouldBe(i % 2 == 0 ? b : a);
        }

        await service.FlushAsync();
        _stream.Envelopes.Count.ShouldBe(2); // an alternating storm of two events queues their publications only
        service.GetRecentEvents().Select(e => (e.Id, e.Occurrences)).ShouldBe([(a, 7L), (b, 6L)]);
    }

    [Fact]
    public async Task PublishAsync_RetentionFullAndANewEvent_TheOldestStopsFoldingAndIsReportedBeforeTheNewEvent()
    {
        await using ImmuneService service = CreateService(o => o.RetentionCapacity = 2);
        await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Warning("B"));

        long c = await service.PublishAsync(Events.Warning("C")); // A leaves the store
        long again = await service.PublishAsync(Events.Warning("A"));

        (c, again).ShouldBe((3L, 4L));
        await service.FlushAsync();
        _stream.Envelopes.Select(e => (e.Type, e.Payload.Message)).ShouldBe(
        [
            (ImmuneEventTypes.EventPublished, "A"), (ImmuneEventTypes.EventPublished, "B"),
            (ImmuneEventTypes.EventRepeated, "A"), (ImmuneEventTypes.EventPublished, "C"), (ImmuneEventTypes.EventPublished, "A"),
        ]);
    }

    [Fact]
    public async Task PublishAsync_ClockStepsBackBetweenRepeats_LastSeenNeverPrecedesFirstSeenAndTheReportComesAfterBoth()
    {
        var clock = new ManualClock(Start);
        await using (var service = new ImmuneService(_stream, new ImmuneOptions { FoldWindow = Window }, timeProvider: clock))
        {
            await service.PublishAsync(Events.Info());
            clock.Now = Start - TimeSpan.FromSeconds(30); // NTP stepped the clock back
            await service.PublishAsync(Events.Info());
            service.GetRecentEvents()[0].LastSeenAt.ShouldBeGreaterThanOrEqualTo(service.GetRecentEvents()[0].CreatedAt);
        }

        var report = Of(ImmuneEventTypes.EventRepeated).ShouldHaveSingleItem();
        var payload = report.Payload.ShouldBeOfType<ImmuneEventRepeatedPayload>();
        payload.LastSeenAt.ShouldBeGreaterThanOrEqualTo(payload.FirstSeenAt);
        report.Timestamp.ShouldBeGreaterThan(Of(ImmuneEventTypes.EventPublished)[0].Timestamp);
    }

    [Fact]
    public async Task PublishAsync_StormOf100000IdenticalCriticalEvents_OnePublishedOneCriticalOneRepeated()
    {
        await using ImmuneService service = CreateService();
        long id = await service.PublishAsync(Events.Critical());
        for (int i = 1; i < 100_000; i++)
        {
            _time.Advance(TimeSpan.FromTicks(50));
            (await service.PublishAsync(Events.Critical())).ShouldBe(id);
        }

        DateTimeOffset lastSeen = _time.GetUtcNow();
        await service.Flushed();
        Of(ImmuneEventTypes.EventRepeated).ShouldBeEmpty(); // the window is still open

        _time.Advance(Window); // the window closes: the timer reports
        await service.Flushed();

        _stream.Envelopes.Select(e => e.Type).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.EventRepeated]);
        var report = (ImmuneEventRepeatedPayload)Of(ImmuneEventTypes.EventRepeated)[0].Payload;
        report.EventId.ShouldBe(id);
        report.Occurrences.ShouldBe(100_000);
        report.FirstSeenAt.ShouldBe(Start);
        report.LastSeenAt.ShouldBe(lastSeen);
        report.Severity.ShouldBe(ImmuneSeverity.Critical);
        ImmuneHealthSummary summary = service.GetHealthSummary(TimeSpan.FromHours(1));
        summary.ActiveIssues.ShouldBe(1);
        summary.CriticalIssues.ShouldBe(1);
        summary.Occurrences.ShouldBe(100_000);
        ImmuneEvent folded = service.GetRecentEvents(TimeSpan.FromHours(1)).ShouldHaveSingleItem();
        folded.Occurrences.ShouldBe(100_000);
        folded.LastSeenAt.ShouldBe(lastSeen);
        service.GetDeliveryStats().Queued.ShouldBe(3);
    }

    [Fact]
    public async Task PublishAsync_TwoInterleavedStorms_FoldSeparately()
    {
        await using ImmuneService service = CreateService();
        var ids = new HashSet<long>();
        for (int i = 0; i < 1_000; i++)
        {
            ids.Add(await service.PublishAsync(Events.Warning("A")));
            ids.Add(await service.PublishAsync(Events.Warning("B")));
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        _time.Advance(Window);
        await service.Flushed();

        ids.ShouldBe([1L, 2L]);
        Of(ImmuneEventTypes.EventPublished).Length.ShouldBe(2);
        Of(ImmuneEventTypes.EventRepeated).Select(e => ((ImmuneEventRepeatedPayload)e.Payload).Occurrences).ShouldBe([1_000L, 1_000L]);
        service.GetHealthSummary(TimeSpan.FromHours(1)).Occurrences.ShouldBe(2_000);
    }

    [Fact]
    public async Task PublishAsync_RepeatAtTheEndOfTheWindowOrLater_StartsANewEvent()
    {
        await using ImmuneService service = CreateService();
        long first = await service.PublishAsync(Events.Info());
        _time.Advance(Window - TimeSpan.FromTicks(1));
        (await service.PublishAsync(Events.Info())).ShouldBe(first);

        _time.Advance(TimeSpan.FromTicks(1)); // exactly FoldWindow after the first: not less than it
        long second = await service.PublishAsync(Events.Info());
        await service.Flushed();

        second.ShouldBe(first + 1);
        Of(ImmuneEventTypes.EventPublished).Length.ShouldBe(2);
        ((ImmuneEventRepeatedPayload)Of(ImmuneEventTypes.EventRepeated).ShouldHaveSingleItem().Payload).EventId.ShouldBe(first);
    }

    [Fact]
    public async Task PublishAsync_ConcurrentPublishersOfTheSameEvent_LoseNoOccurrence()
    {
        await using ImmuneService service = CreateService();

        long[][] ids = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var mine = new long[25_000];
            for (int i = 0; i < mine.Length; i++) mine[i] = await service.PublishAsync(Events.Critical());
            return mine;
        })));

        ids.SelectMany(i => i).Distinct().ShouldHaveSingleItem();
        service.GetRecentEvents(TimeSpan.FromHours(1)).ShouldHaveSingleItem().Occurrences.ShouldBe(100_000);
        await service.DisposeAsync();
        ((ImmuneEventRepeatedPayload)Of(ImmuneEventTypes.EventRepeated).ShouldHaveSingleItem().Payload).Occurrences.ShouldBe(100_000);
    }

    [Fact]
    public async Task DisposeAsync_WindowStillOpen_PublishesThePendingReportsBeforeItDrains()
    {
        ImmuneService service = CreateService();
        await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Info("B")); // never repeated: no report

        await service.DisposeAsync();

        _stream.Envelopes.Select(e => e.Type).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.EventPublished, ImmuneEventTypes.EventRepeated]);
        ((ImmuneEventRepeatedPayload)Of(ImmuneEventTypes.EventRepeated)[0].Payload).Occurrences.ShouldBe(3);
        service.GetDeliveryStats().ShouldBeBalanced();
        service.GetDeliveryStats().Delivered.ShouldBe(3);
    }

    [Fact]
    public async Task PublishAsync_FoldWindowZero_RecordsEveryPublish()
    {
        await using ImmuneService service = CreateService(o => o.FoldWindow = TimeSpan.Zero);

        long[] ids = [await service.Publish(Events.Info()), await service.Publish(Events.Info()), await service.Publish(Events.Info())];
        await service.Flushed();

        ids.ShouldBe([1L, 2L, 3L]);
        _stream.Envelopes.Count.ShouldBe(3);
        service.GetRecentEvents(TimeSpan.FromHours(1)).ShouldAllBe(e => e.Occurrences == 1 && e.LastSeenAt == e.CreatedAt);
        service.GetHealthSummary(TimeSpan.FromHours(1)).Occurrences.ShouldBe(3);
        service.Parts.FoldIndexCount.ShouldBe(0);
    }

    [Fact]
    public async Task PublishAsync_DifferentMetaOnly_IsFolded()
    {
        await using ImmuneService service = CreateService();

        long a = await service.PublishAsync(Events.Info() with { Meta = new Dictionary<string, object?> { ["n"] = 1 } });
        long b = await service.PublishAsync(Events.Info() with { Meta = new Dictionary<string, object?> { ["n"] = 2 } });

        b.ShouldBe(a);
    }

    [Fact]
    public async Task ChangeSeverityAsync_FoldedEvent_AppliesToItAndLaterRepeatsAtTheOldSeverityStartANewEvent()
    {
        await using ImmuneService service = CreateService();
        long id = await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Warning("A"));

        (await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical)).ShouldBeTrue();
        long later = await service.PublishAsync(Events.Warning("A"));
        _time.Advance(Window);
        await service.Flushed();

        later.ShouldBe(id + 1);
        var report = (ImmuneEventRepeatedPayload)Of(ImmuneEventTypes.EventRepeated).ShouldHaveSingleItem().Payload;
        report.EventId.ShouldBe(id);
        report.Severity.ShouldBe(ImmuneSeverity.Critical);
        report.Occurrences.ShouldBe(2);
        service.GetHealthSummary(TimeSpan.FromHours(1)).CriticalIssues.ShouldBe(1);
    }

    [Fact]
    public async Task PublishAsync_FoldedEventLeavesTheStoreBeforeItsWindowCloses_IsReportedFirst()
    {
        await using ImmuneService service = CreateService(o => { o.RetentionCapacity = 3; o.FoldWindow = TimeSpan.FromHours(1); });
        await service.PublishAsync(Events.Warning("A"));
        await service.PublishAsync(Events.Warning("A"));
        for (int i = 0; i < 1_000; i++)
        {
            await service.PublishAsync(Events.Info($"distinct {i}"));
            service.Parts.FoldIndexCount.ShouldBeLessThanOrEqualTo(3); // bounded by what is retained
        }

        await service.Flushed();

        var report = (ImmuneEventRepeatedPayload)Of(ImmuneEventTypes.EventRepeated).ShouldHaveSingleItem().Payload;
        report.EventId.ShouldBe(1);
        report.Occurrences.ShouldBe(2);
        service.GetHealthSummary(TimeSpan.FromHours(2)).Occurrences.ShouldBe(3); // the evicted repeats left with their event
    }

    [Fact]
    public async Task GetHealthSummary_Occurrences_CountsOnlyTheWindow()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Info("old"));
        await service.PublishAsync(Events.Info("old"));
        _time.Advance(TimeSpan.FromMinutes(5));
        await service.PublishAsync(Events.Info("new"));
        await service.PublishAsync(Events.Info("new"));
        await service.PublishAsync(Events.Info("new"));

        service.GetHealthSummary(TimeSpan.FromMinutes(1)).Occurrences.ShouldBe(3);
        service.GetHealthSummary(TimeSpan.FromMinutes(10)).Occurrences.ShouldBe(5);
        service.GetHealthSummary(TimeSpan.FromMinutes(10)).ActiveIssues.ShouldBe(2);
    }
}
