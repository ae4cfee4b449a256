using System.Collections;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests;

public sealed partial class ImmuneServiceTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryEventStream _stream = new();

    private ImmuneService CreateService(Action<ImmuneOptions>? configure = null, IEventStream? stream = null)
    {
        var options = new ImmuneOptions();
        configure?.Invoke(options);
        return new ImmuneService(stream ?? _stream, options, timeProvider: _time);
    }

    [GeneratedRegex("^evt_immune_(\\d+)_[0-9a-f]{16}$")]
    private static partial Regex EnvelopeId();

    [Fact]
    public async Task InstanceId_SixteenRandomHexDigitsNewOnEveryConstruction_IsOnEveryEnvelope()
    {
        await using ImmuneService service = CreateService();
        await using ImmuneService another = CreateService();

        long id = await service.PublishAsync(Events.Warning());
        await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical);
        await service.FlushAsync();

        service.InstanceId.ShouldMatch("^[0-9a-f]{16}$");
        another.InstanceId.ShouldNotBe(service.InstanceId);
        _stream.Envelopes.Count.ShouldBe(3);
        _stream.Envelopes.ShouldAllBe(e => e.Meta.InstanceId == service.InstanceId);
    }

    [Fact]
    public async Task PublishAsync_Info_PublishesOneEventPublishedEnvelopeWithEveryField()
    {
        await using ImmuneService service = CreateService();
        var meta = new Dictionary<string, object?> { ["rule"] = "rate-limit" };

        long id = await service.PublishAsync(Events.Info() with { AgentId = "agent-7", Module = "cache", Meta = meta });
        await service.Flushed();

        id.ShouldBe(1);
        EventEnvelope envelope = _stream.Envelopes.ShouldHaveSingleItem();
        Match match = EnvelopeId().Match(envelope.Id);
        match.Success.ShouldBeTrue(envelope.Id);
        long.Parse(match.Groups[1].Value).ShouldBe(Start.ToUnixTimeMilliseconds());
        envelope.Type.ShouldBe(ImmuneEventTypes.EventPublished);
        envelope.Source.ShouldBe("immune_service");
        envelope.Target.ShouldBeNull();
        envelope.Timestamp.ShouldBe(Start);
        envelope.Meta.Version.ShouldBe("1.0");
        envelope.Meta.CorrelationId.ShouldMatch("^[0-9a-f]{32}$");
        var payload = envelope.Payload.ShouldBeOfType<ImmuneEventPublishedPayload>();
        payload.EventId.ShouldBe(1);
        payload.Severity.ShouldBe(ImmuneSeverity.Info);
        payload.Type.ShouldBe(ImmuneEventType.SelfHealingAction);
        payload.Message.ShouldBe("cache refreshed");
        payload.AgentId.ShouldBe("agent-7");
        payload.Module.ShouldBe("cache");
        payload.Meta.ShouldNotBeNull()["rule"].ShouldBe("rate-limit");
        payload.PublishedAt.ShouldBe(Start);
    }

    [Fact]
    public async Task PublishAsync_Critical_PublishesEventPublishedThenCriticalEventWithOneCorrelationId()
    {
        await using ImmuneService service = CreateService();

        await service.PublishAsync(Events.Critical());
        await service.Flushed();

        _stream.Envelopes.Select(e => e.Type).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent]);
        EventEnvelope published = _stream.Envelopes[0], critical = _stream.Envelopes[1];
        critical.Meta.CorrelationId.ShouldBe(published.Meta.CorrelationId);
        critical.Id.ShouldNotBe(published.Id);
        var payload = critical.Payload.ShouldBeOfType<ImmuneCriticalEventPayload>();
        payload.CriticalAt.ShouldBe(Start);
        payload.Severity.ShouldBe(ImmuneSeverity.Critical);
        payload.EventId.ShouldBe(1);
    }

    [Fact]
    public async Task PublishAsync_TwoEvents_GetDifferentCorrelationIds()
    {
        await using ImmuneService service = CreateService();

        await service.PublishAsync(Events.Info());
        await service.PublishAsync(Events.Info());
        await service.Flushed();

        _stream.Envelopes[0].Meta.CorrelationId.ShouldNotBe(_stream.Envelopes[1].Meta.CorrelationId);
    }

    [Fact]
    public async Task PublishAsync_WithAmbientActivity_UsesItsTraceIdAsCorrelationId()
    {
        await using ImmuneService service = CreateService();
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();

        await service.PublishAsync(Events.Critical());
        await service.Flushed();

        _stream.Envelopes.ShouldAllBe(e => e.Meta.CorrelationId == activity.TraceId.ToHexString());
    }

    [Fact]
    public async Task PublishAsync_ConfiguredSource_IsEveryEnvelopesSource()
    {
        await using ImmuneService service = CreateService(o => o.Source = "billing");

        await service.PublishAsync(Events.Critical());
        await service.Flushed();

        _stream.Envelopes.ShouldAllBe(e => e.Source == "billing");
    }

    [Fact]
    public async Task PublishAsync_IdsStartAtOneAndIncrease_TimesComeFromTheTimeProvider()
    {
        await using ImmuneService service = CreateService();

        long first = await service.PublishAsync(Events.Info());
        _time.Advance(TimeSpan.FromSeconds(3));
        long second = await service.PublishAsync(Events.Warning());

        (first, second).ShouldBe((1, 2));
        service.GetRecentEvents().Select(e => e.CreatedAt).ShouldBe([Start, Start.AddSeconds(3)]);
    }

    [Fact]
    public async Task PublishAsync_ClockGoesBackwards_CreatedAtNeverDecreases()
    {
        TimeProvider clock = Substitute.For<TimeProvider>();
        clock.GetUtcNow().Returns(Start, Start.AddSeconds(-30));
        await using var service = new ImmuneService(timeProvider: clock);

        await service.PublishAsync(Events.Info());
        await service.PublishAsync(Events.Info());

        service.GetRecentEvents(TimeSpan.MaxValue).Select(e => e.CreatedAt).ShouldBe([Start, Start]);
    }

    [Fact]
    public async Task PublishAsync_ManyEvents_EnvelopeIdsNeverRepeat()
    {
        await using ImmuneService service = CreateService();

        for (int i = 0; i < 2000; i++)
        {
            await service.PublishAsync(Events.Critical());
        }

        await service.Flushed();
        _stream.Envelopes.Select(e => e.Id).Distinct().Count().ShouldBe(4000);
    }

    [Fact]
    public async Task GetRecentEvents_Window_ReturnsEventsAtOrAfterNowMinusWindowOldestFirst()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Info("at 0"));
        _time.Advance(TimeSpan.FromMinutes(10));
        await service.PublishAsync(Events.Info("at 10"));
        _time.Advance(TimeSpan.FromMinutes(20));
        await service.PublishAsync(Events.Info("at 30"));
        _time.Advance(TimeSpan.FromMinutes(20)); // now = 50

        service.GetRecentEvents(TimeSpan.FromMinutes(40)).Select(e => e.Message).ShouldBe(["at 10", "at 30"]);
        service.GetRecentEvents(TimeSpan.FromMinutes(39)).Select(e => e.Message).ShouldBe(["at 30"]);
        service.GetRecentEvents(TimeSpan.Zero).ShouldBeEmpty();
        service.GetRecentEvents().Select(e => e.Message).ShouldBe(["at 0", "at 10", "at 30"]);
        service.GetRecentEvents(TimeSpan.MaxValue).Count.ShouldBe(3);
    }

    [Fact]
    public async Task GetRecentEvents_NegativeWindow_Throws()
    {
        await using ImmuneService service = CreateService();

        Should.Throw<ArgumentOutOfRangeException>(() => service.GetRecentEvents(TimeSpan.FromSeconds(-1))).ParamName.ShouldBe("window");
        Should.Throw<ArgumentOutOfRangeException>(() => service.GetHealthSummary(TimeSpan.FromSeconds(-1))).ParamName.ShouldBe("window");
    }

    [Fact]
    public async Task GetHealthSummary_CountsTheWindowAndKeepsTheNewestTenOldestFirst()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Critical("old critical"));
        _time.Advance(TimeSpan.FromHours(2));
        for (int i = 1; i <= 12; i++)
        {
            await service.PublishAsync(i % 4 == 0 ? Events.Warning($"w{i}") : Events.Info($"i{i}"));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        ImmuneHealthSummary summary = service.GetHealthSummary();

        summary.ActiveIssues.ShouldBe(12);
        summary.CriticalIssues.ShouldBe(0);
        summary.Status.ShouldBe(ImmuneHealthStatus.Degraded);
        summary.Window.ShouldBe(TimeSpan.FromHours(1));
        summary.GeneratedAt.ShouldBe(_time.GetUtcNow());
        summary.LastEvents.Select(e => e.Message).ShouldBe(["i3", "w4", "i5", "i6", "i7", "w8", "i9", "i10", "i11", "w12"]);
        summary.CountsBySeverity.ShouldBe(new Dictionary<ImmuneSeverity, int> { [ImmuneSeverity.Info] = 9, [ImmuneSeverity.Warning] = 3, [ImmuneSeverity.Critical] = 0 }, ignoreOrder: true);
        summary.CountsByType.ShouldBe(new Dictionary<ImmuneEventType, int> { [ImmuneEventType.SelfHealingAction] = 9, [ImmuneEventType.ErrorSpike] = 3, [ImmuneEventType.PolicyViolation] = 0 }, ignoreOrder: true);

        ImmuneHealthSummary wide = service.GetHealthSummary(TimeSpan.FromHours(3));
        wide.ActiveIssues.ShouldBe(13);
        wide.CriticalIssues.ShouldBe(1);
        wide.Status.ShouldBe(ImmuneHealthStatus.Critical);
    }

    [Fact]
    public async Task GetHealthSummary_NoEvents_IsHealthyWithZeroCounts()
    {
        await using ImmuneService service = CreateService();

        ImmuneHealthSummary empty = service.GetHealthSummary(TimeSpan.FromMinutes(5));

        empty.Status.ShouldBe(ImmuneHealthStatus.Healthy);
        (empty.ActiveIssues, empty.CriticalIssues).ShouldBe((0, 0));
        empty.LastEvents.ShouldBeEmpty();
        empty.CountsBySeverity.Values.ShouldAllBe(v => v == 0);
        empty.CountsByType.Values.ShouldAllBe(v => v == 0);
    }

    [Fact]
    public async Task GetHealthSummary_ZeroWindow_HoldsOnlyEventsRecordedThisInstant()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Info());

        ImmuneHealthSummary summary = service.GetHealthSummary(TimeSpan.FromMinutes(5));

        summary.Status.ShouldBe(ImmuneHealthStatus.Healthy);
        summary.ActiveIssues.ShouldBe(1);
        service.GetHealthSummary(TimeSpan.Zero).ActiveIssues.ShouldBe(1); // CreatedAt == now - 0 is inside the window
        _time.Advance(TimeSpan.FromTicks(1));
        service.GetHealthSummary(TimeSpan.Zero).ActiveIssues.ShouldBe(0);
        service.GetHealthSummary(TimeSpan.Zero).LastEvents.ShouldBeEmpty();
        service.GetHealthSummary(TimeSpan.Zero).CountsBySeverity.Values.ShouldAllBe(v => v == 0);
    }

    [Fact]
    public async Task PublishAsync_RetentionFull_OldestLeavesFirstAndIdsKeepRising()
    {
        await using ImmuneService service = CreateService(o => o.RetentionCapacity = 3);

        for (int i = 0; i < 5; i++)
        {
            await service.PublishAsync(i == 0 ? Events.Critical() : Events.Info());
        }

        service.GetRecentEvents().Select(e => e.Id).ShouldBe([3L, 4L, 5L]);
        ImmuneHealthSummary summary = service.GetHealthSummary();
        summary.ActiveIssues.ShouldBe(3);
        summary.CriticalIssues.ShouldBe(0); // the CRITICAL event was evicted
        (await service.PublishAsync(Events.Info())).ShouldBe(6);
    }

    [Fact]
    public async Task PublishAsync_RetentionWrapsManyTimes_SummaryCountsStayExact()
    {
        await using ImmuneService service = CreateService(o => o.RetentionCapacity = 7);
        var severities = new[] { ImmuneSeverity.Info, ImmuneSeverity.Warning, ImmuneSeverity.Critical };
        var all = new List<ImmuneSeverity>();
        for (int i = 0; i < 50; i++)
        {
            ImmuneSeverity severity = severities[(i * 7 + i / 3) % 3];
            all.Add(severity);
            await service.PublishAsync(new NewImmuneEvent(severity, ImmuneEventType.ErrorSpike, $"e{i}"));
            _time.Advance(TimeSpan.FromSeconds(1));
            int window = (i % 9) + 1;
            var expected = all.Skip(Math.Max(0, all.Count - 7)).TakeLast(window).ToList();

            ImmuneHealthSummary summary = service.GetHealthSummary(TimeSpan.FromSeconds(window));

            summary.ActiveIssues.ShouldBe(expected.Count);
            summary.CriticalIssues.ShouldBe(expected.Count(s => s == ImmuneSeverity.Critical));
            summary.CountsBySeverity[ImmuneSeverity.Warning].ShouldBe(expected.Count(s => s == ImmuneSeverity.Warning));
        }
    }

    [Fact]
    public async Task PublishAsync_WithoutStream_RecordsAndSummarizesAndLogsOnce()
    {
        var logger = new FakeLogger<ImmuneService>();
        await using var service = new ImmuneService(eventStream: null, logger: logger, timeProvider: _time);

        await service.PublishAsync(Events.Critical());
        await service.PublishAsync(Events.Info());
        await service.FlushAsync();

        service.GetHealthSummary().CriticalIssues.ShouldBe(1);
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats());
        FakeLogRecord entry = logger.WithName("NoEventStream").ShouldHaveSingleItem();
        entry.Id.Id.ShouldBe(1);
    }

    [Fact]
    public async Task PublishAsync_MetaChangedByCallerAfterwards_ChangesNeitherStoreNorEnvelope()
    {
        await using ImmuneService service = CreateService();
        var tags = new List<object?> { "a", 1 };
        var nested = new Dictionary<string, object?> { ["limit"] = 10 };
        var meta = new Dictionary<string, object?> { ["tags"] = tags, ["nested"] = nested, ["ratio"] = 0.5f, ["count"] = (short)3 };

        await service.PublishAsync(Events.Info() with { Meta = meta });
        meta["added"] = true;
        tags.Add("b");
        nested["limit"] = 99;
        await service.Flushed();

        foreach (IReadOnlyDictionary<string, object?> stored in new[] { service.GetRecentEvents()[0].Meta!, _stream.Envelopes[0].Payload.Meta! })
        {
            stored.Keys.ShouldBe(["tags", "nested", "ratio", "count"]);
            ((IEnumerable)stored["tags"]!).Cast<object?>().ShouldBe(["a", 1]);
            ((IReadOnlyDictionary<string, object?>)stored["nested"]!)["limit"].ShouldBe(10);
            stored["ratio"].ShouldBeOfType<float>();
            stored["count"].ShouldBeOfType<short>();
        }
    }

    [Fact]
    public async Task PublishAsync_MetaOfEverySupportedKind_IsAccepted()
    {
        await using ImmuneService service = CreateService();
        var meta = new Dictionary<string, object?>
        {
            ["null"] = null, ["string"] = "s", ["bool"] = true, ["int"] = 1, ["long"] = 2L, ["double"] = 1.5, ["decimal"] = 2.5m,
            ["byte"] = (byte)1, ["uint"] = 3u, ["ulong"] = 4ul, ["guid"] = Guid.NewGuid(), ["dto"] = Start, ["dt"] = Start.UtcDateTime,
            ["array"] = new[] { 1, 2 }, ["hashtable"] = new Hashtable { ["k"] = "v" }, ["typed"] = new Dictionary<string, int> { ["n"] = 1 },
        };

        await service.PublishAsync(Events.Info() with { Meta = meta });

        service.GetRecentEvents()[0].Meta!.Count.ShouldBe(meta.Count);
    }

    public static TheoryData<NewImmuneEvent?, Type, string, string> InvalidEvents()
    {
        var cyclic = new Dictionary<string, object?>();
        cyclic["self"] = cyclic;
        var deep = new Dictionary<string, object?>();
        var level = deep;
        for (int i = 0; i < 8; i++)
        {
            var next = new Dictionary<string, object?>();
            level["child"] = next;
            level = next;
        }

        return new TheoryData<NewImmuneEvent?, Type, string, string>
        {
            { null, typeof(ArgumentNullException), "newEvent", "newEvent" },
            { new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, null!), typeof(ArgumentNullException), "Message", "Message must not be null" },
            { Events.Info(""), typeof(ArgumentException), "Message", "Message must not be empty or whitespace" },
            { Events.Info(" \t"), typeof(ArgumentException), "Message", "Message must not be empty or whitespace" },
            { Events.Info(new string('x', 4097)), typeof(ArgumentException), "Message", "at most 4,096 characters (was 4,097)" },
            { Events.Info() with { AgentId = new string('a', 257) }, typeof(ArgumentException), "AgentId", "AgentId must be at most 256" },
            { Events.Info() with { AgentId = " " }, typeof(ArgumentException), "AgentId", "AgentId must not be empty" },
            { Events.Info() with { Module = new string('m', 257) }, typeof(ArgumentException), "Module", "Module must be at most 256" },
            { new NewImmuneEvent((ImmuneSeverity)7, ImmuneEventType.ErrorSpike, "m"), typeof(ArgumentException), "Severity", "Severity must be Info, Warning or Critical (was 7)" },
            { new NewImmuneEvent(ImmuneSeverity.Info, (ImmuneEventType)(-1), "m"), typeof(ArgumentException), "Type", "Type must be PolicyViolation" },
            { Events.Info() with { Meta = Enumerable.Range(0, 65).ToDictionary(i => $"k{i}", i => (object?)i) }, typeof(ArgumentException), "Meta", "Meta has more than 64 entries" },
            { Events.Info() with { Meta = new Dictionary<string, object?> { ["list"] = Enumerable.Range(0, 65).ToArray() } }, typeof(ArgumentException), "Meta", "Meta[\"list\"] has more than 64 entries" },
            { Events.Info() with { Meta = deep }, typeof(ArgumentException), "Meta", "nests deeper than 8 levels" },
            { Events.Info() with { Meta = cyclic }, typeof(ArgumentException), "Meta", "Meta[\"self\"] is cyclic" },
            { Events.Info() with { Meta = new Dictionary<string, object?> { ["x"] = new object() } }, typeof(ArgumentException), "Meta", "Meta[\"x\"] holds a value of type System.Object" },
            { Events.Info() with { Meta = new Dictionary<string, object?> { ["x"] = new object?[] { 1, double.NaN } } }, typeof(ArgumentException), "Meta", "Meta[\"x\"][1] is NaN" },
            { Events.Info() with { Meta = new Dictionary<string, object?> { ["x"] = float.PositiveInfinity } }, typeof(ArgumentException), "Meta", "non-finite" },
            { Events.Info() with { Meta = new Dictionary<string, object?> { ["x"] = new Hashtable { [1] = "v" } } }, typeof(ArgumentException), "Meta", "keys must be strings" },
            { Events.Info() with { Meta = new Dictionary<string, object?> { ["x"] = ImmuneSeverity.Info } }, typeof(ArgumentException), "Meta", "JSON cannot carry" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidEvents))]
    public async Task PublishAsync_InvalidEvent_ThrowsNamingTheFieldAndChangesNothing(NewImmuneEvent? newEvent, Type exceptionType, string paramName, string messagePart)
    {
        await using ImmuneService service = CreateService();

        var exception = (ArgumentException)(await Should.ThrowAsync<Exception>(async () => await service.PublishAsync(newEvent!)));

        exception.GetType().ShouldBe(exceptionType);
        exception.ParamName.ShouldBe(paramName);
        exception.Message.ShouldContain(messagePart);
        service.GetRecentEvents().ShouldBeEmpty();
        service.GetDeliveryStats().Queued.ShouldBe(0);
        (await service.PublishAsync(Events.Info())).ShouldBe(1); // no id was used up
    }

    [Fact]
    public async Task PublishAsync_CancelledToken_ThrowsAndRecordsNothing()
    {
        await using ImmuneService service = CreateService();

        await Should.ThrowAsync<OperationCanceledException>(async () => await service.PublishAsync(Events.Info(), new CancellationToken(canceled: true)));

        service.GetRecentEvents().ShouldBeEmpty();
    }

    [Fact]
    public async Task PublishAsync_AfterDispose_ThrowsObjectDisposed()
    {
        ImmuneService service = CreateService();
        await service.DisposeAsync();
        await service.DisposeAsync(); // idempotent
        service.Dispose();

        await Should.ThrowAsync<ObjectDisposedException>(async () => await service.PublishAsync(Events.Info()));
        await Should.ThrowAsync<ObjectDisposedException>(async () => await service.ChangeSeverityAsync(1, ImmuneSeverity.Info));
        service.GetRecentEvents().ShouldBeEmpty(); // reading stays possible
    }

    [Fact]
    public async Task PublishAsync_ConcurrentPublishers_GetUniqueIdsIncreasingPerThread()
    {
        await using ImmuneService service = CreateService(o => o.RetentionCapacity = 100_000);
        const int Threads = 8, PerThread = 2_000;

        long[][] ids = await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Run(async () =>
        {
            var mine = new long[PerThread];
            for (int i = 0; i < PerThread; i++)
            {
                mine[i] = await service.PublishAsync(Events.Info());
            }

            return mine;
        })));

        ids.SelectMany(x => x).Distinct().Count().ShouldBe(Threads * PerThread);
        ids.ShouldAllBe(mine => mine.Zip(mine.Skip(1)).All(pair => pair.First < pair.Second));
        service.GetRecentEvents().Select(e => e.Id).ShouldBe(Enumerable.Range(1, Threads * PerThread).Select(i => (long)i));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingEveryBadOption()
    {
        var options = new ImmuneOptions { RetentionCapacity = 0, PublishTimeout = TimeSpan.Zero, Source = " ", Delivery = (ImmuneDelivery)9 };

        var exception = Should.Throw<ArgumentException>(() => new ImmuneService(options: options));

        exception.ParamName.ShouldBe("options");
        exception.Message.ShouldContain("RetentionCapacity must be from 1 to 100,000,000 (was 0).");
        exception.Message.ShouldContain("PublishTimeout must be from");
        exception.Message.ShouldContain("Source must not be null, empty or whitespace.");
        exception.Message.ShouldContain("Delivery must be Background or Inline (was 9).");
        exception.Message.ShouldNotContain("QueueCapacity");
    }

    [Fact]
    public async Task Constructor_OptionsChangedAfterwards_DoNotAffectTheService()
    {
        var options = new ImmuneOptions { Source = "first" };
        await using var service = new ImmuneService(_stream, options);
        options.Source = "second";

        await service.PublishAsync(Events.Info());
        await service.Flushed();

        _stream.Envelopes[0].Source.ShouldBe("first");
    }

    [Fact]
    public void Options_Defaults_AreTheDocumentedOnes()
    {
        var options = new ImmuneOptions();

        options.Delivery.ShouldBe(ImmuneDelivery.Background);
        options.Source.ShouldBe("immune_service");
        options.RetentionCapacity.ShouldBe(10_000);
        options.QueueCapacity.ShouldBe(10_000);
        options.PublishTimeout.ShouldBe(TimeSpan.FromSeconds(5));
        options.ShutdownTimeout.ShouldBe(TimeSpan.FromSeconds(5));
        options.DeliveryAttempts.ShouldBe(int.MaxValue);
        options.DeliveryTimeout.ShouldBe(TimeSpan.FromMinutes(2));
        options.RetryDelay.ShouldBe(TimeSpan.FromMilliseconds(100));
        options.MaxRetryDelay.ShouldBe(TimeSpan.FromSeconds(1));
        options.MaxMessageLength.ShouldBe(4096);
        options.MaxAgentIdLength.ShouldBe(256);
        options.MaxModuleLength.ShouldBe(256);
        options.MaxMetaEntries.ShouldBe(64);
        options.MaxMetaDepth.ShouldBe(8);
    }
}
