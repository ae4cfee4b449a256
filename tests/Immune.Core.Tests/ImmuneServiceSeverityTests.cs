using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests;

public sealed class ImmuneServiceSeverityTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryEventStream _stream = new();

    private ImmuneService CreateService(Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions();
        configure?.Invoke(options);
        return new ImmuneService(_stream, options, timeProvider: _time);
    }

    [Fact]
    public async Task ChangeSeverityAsync_UnknownOrEvictedId_ReturnsFalseAndPublishesNothing()
    {
        await using ImmuneService service = CreateService(o => o.RetentionCapacity = 2);
        await service.PublishAsync(Events.Info());
        await service.PublishAsync(Events.Info());
        await service.PublishAsync(Events.Info()); // evicts id 1

        (await service.ChangeSeverityAsync(1, ImmuneSeverity.Critical)).ShouldBeFalse();
        (await service.ChangeSeverityAsync(4, ImmuneSeverity.Critical)).ShouldBeFalse();
        (await service.ChangeSeverityAsync(0, ImmuneSeverity.Critical)).ShouldBeFalse();
        (await service.ChangeSeverityAsync(-5, ImmuneSeverity.Critical)).ShouldBeFalse();
        await service.Flushed();

        _stream.Envelopes.Count.ShouldBe(3);
        service.GetHealthSummary().CriticalIssues.ShouldBe(0);
    }

    [Fact]
    public async Task ChangeSeverityAsync_UndefinedSeverity_ThrowsAndChangesNothing()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Warning());

        var exception = await Should.ThrowAsync<ArgumentException>(async () => await service.ChangeSeverityAsync(1, (ImmuneSeverity)5));

        exception.ParamName.ShouldBe("severity");
        service.GetRecentEvents()[0].Severity.ShouldBe(ImmuneSeverity.Warning);
        await service.Flushed();
        _stream.Envelopes.Count.ShouldBe(1);
    }

    [Fact]
    public async Task ChangeSeverityAsync_SameSeverity_ReturnsTrueAndPublishesNothing()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Warning());

        (await service.ChangeSeverityAsync(1, ImmuneSeverity.Warning)).ShouldBeTrue();
        await service.Flushed();

        _stream.Envelopes.Count.ShouldBe(1);
    }

    [Fact]
    public async Task ChangeSeverityAsync_WarningToCritical_PublishesChangeThenCriticalAndSummaryFollows()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Warning() with { AgentId = "a", Module = "m" });
        await service.Flushed(); // delivered before the clock jumps past its delivery timeout
        _time.Advance(TimeSpan.FromMinutes(5));
        DateTimeOffset changedAt = _time.GetUtcNow();

        (await service.ChangeSeverityAsync(1, ImmuneSeverity.Critical)).ShouldBeTrue();
        await service.Flushed();

        service.GetRecentEvents()[0].Severity.ShouldBe(ImmuneSeverity.Critical);
        service.GetRecentEvents()[0].CreatedAt.ShouldBe(Start);
        ImmuneHealthSummary summary = service.GetHealthSummary();
        summary.Status.ShouldBe(ImmuneHealthStatus.Critical);
        summary.CriticalIssues.ShouldBe(1);
        summary.CountsBySeverity[ImmuneSeverity.Warning].ShouldBe(0);

        _stream.Envelopes.Select(e => e.Type).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.SeverityChanged, ImmuneEventTypes.CriticalEvent]);
        EventEnvelope change = _stream.Envelopes[1], critical = _stream.Envelopes[2];
        change.Timestamp.ShouldBe(changedAt);
        var payload = change.Payload.ShouldBeOfType<ImmuneSeverityChangedPayload>();
        (payload.EventId, payload.Severity, payload.PreviousSeverity, payload.ChangedAt).ShouldBe((1L, ImmuneSeverity.Critical, ImmuneSeverity.Warning, changedAt));
        (payload.AgentId, payload.Module, payload.Type, payload.Message).ShouldBe(("a", "m", ImmuneEventType.ErrorSpike, "error rate rising"));
        critical.Payload.ShouldBeOfType<ImmuneCriticalEventPayload>().CriticalAt.ShouldBe(changedAt);
        critical.Meta.CorrelationId.ShouldBe(change.Meta.CorrelationId);
        change.Meta.CorrelationId.ShouldNotBe(_stream.Envelopes[0].Meta.CorrelationId);
    }

    [Fact]
    public async Task ChangeSeverityAsync_CriticalToInfo_PublishesOnlyTheChangeAndNoLongerCountsCritical()
    {
        await using ImmuneService service = CreateService();
        await service.PublishAsync(Events.Critical());

        (await service.ChangeSeverityAsync(1, ImmuneSeverity.Info)).ShouldBeTrue();
        await service.Flushed();

        ImmuneHealthSummary summary = service.GetHealthSummary();
        (summary.Status, summary.CriticalIssues, summary.ActiveIssues).ShouldBe((ImmuneHealthStatus.Healthy, 0, 1));
        _stream.Envelopes.Select(e => e.Type).ShouldBe([ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.SeverityChanged]);
        var payload = _stream.Envelopes[2].Payload.ShouldBeOfType<ImmuneSeverityChangedPayload>();
        (payload.Severity, payload.PreviousSeverity).ShouldBe((ImmuneSeverity.Info, ImmuneSeverity.Critical));
    }

    [Fact]
    public async Task ChangeSeverityAsync_EnvelopesQueuedBeforeTheChange_KeepTheSeverityTheyWereRecordedWith()
    {
        var gate = new TaskCompletionSource();
        ScriptedStream stream = ScriptedStream.Gated(gate);
        await using var service = new ImmuneService(stream, new ImmuneOptions { ShutdownTimeout = TimeSpan.Zero }, timeProvider: _time);
        await service.PublishAsync(Events.Warning());

        await service.ChangeSeverityAsync(1, ImmuneSeverity.Info);
        gate.SetResult();
        await service.Flushed();

        stream.Accepted[0].Payload.Severity.ShouldBe(ImmuneSeverity.Warning);
        stream.Accepted[1].Payload.Severity.ShouldBe(ImmuneSeverity.Info);
    }

    [Fact]
    public async Task ChangeSeverityAsync_Inline_WaitsForDelivery()
    {
        var gate = new TaskCompletionSource();
        var stream = new ScriptedStream(call => call.Envelope.Type == ImmuneEventTypes.SeverityChanged ? new ValueTask(gate.Task) : ValueTask.CompletedTask);
        await using var service = new ImmuneService(stream, new ImmuneOptions { Delivery = ImmuneDelivery.Inline, ShutdownTimeout = TimeSpan.Zero }, timeProvider: _time);
        await service.PublishAsync(Events.Warning());

        ValueTask<bool> changing = service.ChangeSeverityAsync(1, ImmuneSeverity.Critical);
        await stream.WhenCalled(2);
        changing.IsCompleted.ShouldBeFalse();
        gate.SetResult();

        (await changing.AsTask().WaitAsync(Events.HangGuard)).ShouldBeTrue();
        service.GetDeliveryStats().ShouldBe(new ImmuneDeliveryStats { Queued = 3, Delivered = 3 });
    }

    [Fact]
    public async Task ChangeSeverityAsync_ConcurrentChangesAndPublishes_EnvelopesTellOneConsistentStory()
    {
        var stream = new InMemoryEventStream(100_000);
        await using var service = new ImmuneService(stream, new ImmuneOptions { QueueCapacity = 100_000 });
        await service.PublishAsync(Events.Info("target"));
        ImmuneSeverity[] severities = [ImmuneSeverity.Info, ImmuneSeverity.Warning, ImmuneSeverity.Critical];

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                if (t == 0)
                {
                    await service.PublishAsync(Events.Info("noise"));
                }
                else
                {
                    (await service.ChangeSeverityAsync(1, severities[(i + t) % 3])).ShouldBeTrue();
                }
            }
        })));
        await service.Flushed();

        var changes = stream.Envelopes.Where(e => e.Type == ImmuneEventTypes.SeverityChanged)
            .Select(e => (ImmuneSeverityChangedPayload)e.Payload).ToList();
        changes.ShouldNotBeEmpty();
        ImmuneSeverity current = ImmuneSeverity.Info;
        foreach (ImmuneSeverityChangedPayload change in changes)
        {
            change.PreviousSeverity.ShouldBe(current); // each change starts where the previous one left the event
            change.Severity.ShouldNotBe(change.PreviousSeverity);
            current = change.Severity;
        }

        service.GetRecentEvents(TimeSpan.MaxValue)[0].Severity.ShouldBe(current);
        service.GetHealthSummary().CriticalIssues.ShouldBe(current == ImmuneSeverity.Critical ? 1 : 0);
        int escalations = changes.Count(c => c.Severity == ImmuneSeverity.Critical);
        stream.Envelopes.Count(e => e.Type == ImmuneEventTypes.CriticalEvent).ShouldBe(escalations);
    }
}
