using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Consumers;

/// <summary>
/// <see cref="ImmunePaging"/>: an escalation pages and a resolution resolves, once each, in the event's own time order;
/// a pager that cannot be reached leaves the action pending (it is sent when the pager answers, and paging shows as
/// failing meanwhile); a refusal is logged and counted, and never recorded as sent.
/// </summary>
public sealed class ImmunePagingTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(At);
    private readonly FakeLogger<ImmunePaging> _logger = new();
    private readonly RecordingPager _pager = new();
    private readonly InMemoryPagerLedger _ledger = new();

    private ImmunePaging Paging() => new(_pager, _ledger, _logger, _time);

    private sealed class RecordingPager : IImmunePager
    {
        public List<(string Action, string Key, string Envelope)> Sent { get; } = [];

        public Func<Exception?> Problem { get; set; } = static () => null;

        public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken) => Send("trigger", dedupKey, envelope);

        public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken) => Send("resolve", dedupKey, envelope);

        private Task Send(string action, string key, EventEnvelope envelope)
        {
            if (Problem() is { } problem)
            {
                return Task.FromException(problem);
            }

            Sent.Add((action, key, envelope.Id));
            return Task.CompletedTask;
        }
    }

    private static EventEnvelope Envelope(string type, ImmunePayload payload, string source = "checkout", string? instance = "i1")
        => new($"evt_{type}_{payload.EventId}_{payload.Severity}_{Guid.NewGuid():N}", type, source, null, At, payload, new EventMeta("c") { InstanceId = instance });

    private static EventEnvelope Critical(long id, DateTimeOffset at) => Envelope(ImmuneEventTypes.CriticalEvent, new ImmuneCriticalEventPayload(id, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "token reused", at));

    private static EventEnvelope Changed(long id, ImmuneSeverity from, ImmuneSeverity to, DateTimeOffset at)
        => Envelope(ImmuneEventTypes.SeverityChanged, new ImmuneSeverityChangedPayload(id, to, ImmuneEventType.PolicyViolation, "token reused", from, at));

    private static EventEnvelope Published(long id, ImmuneSeverity severity)
        => Envelope(ImmuneEventTypes.EventPublished, new ImmuneEventPublishedPayload(id, severity, ImmuneEventType.PolicyViolation, "token reused", At));

    [Fact]
    public async Task HandleAsync_EscalationPages_ResolutionResolves_OthersIgnored_EachOnce()
    {
        ImmunePaging paging = Paging();
        EventEnvelope critical = Critical(7, At);

        (await paging.HandleAsync(Published(7, ImmuneSeverity.Critical))).ShouldBe(ImmunePagingResult.Ignored);
        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.Sent);
        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.AlreadySent); // redelivered
        (await paging.HandleAsync(Changed(7, ImmuneSeverity.Warning, ImmuneSeverity.Info, At.AddSeconds(1)))).ShouldBe(ImmunePagingResult.Ignored);
        (await paging.HandleAsync(Changed(7, ImmuneSeverity.Critical, ImmuneSeverity.Info, At.AddSeconds(2)))).ShouldBe(ImmunePagingResult.Sent);

        _pager.Sent.Select(s => (s.Action, s.Key)).ShouldBe([("trigger", "immune_critical_checkout_i1_7"), ("resolve", "immune_critical_checkout_i1_7")]);
        paging.GetStatus().Sent.ShouldBe(2);
    }

    [Fact]
    public async Task HandleAsync_AResolutionHandledBeforeAnOlderEscalation_TheEscalationIsSuperseded()
    {
        ImmunePaging paging = Paging();

        (await paging.HandleAsync(Changed(7, ImmuneSeverity.Critical, ImmuneSeverity.Info, At.AddSeconds(2)))).ShouldBe(ImmunePagingResult.Sent);
        (await paging.HandleAsync(Critical(7, At))).ShouldBe(ImmunePagingResult.AlreadySent); // older than what was sent: the pager stays resolved

        _pager.Sent.Select(s => s.Action).ShouldBe(["resolve"]);
    }

    [Fact]
    public async Task HandleAsync_PagerDown_Throws_ShowsFailing_NothingRecorded_ThenSentWhenThePagerAnswers()
    {
        ImmunePaging paging = Paging();
        EventEnvelope critical = Critical(7, At);
        _pager.Problem = static () => new HttpRequestException("HTTP 500");

        await Should.ThrowAsync<HttpRequestException>(() => paging.HandleAsync(critical));
        _time.Advance(TimeSpan.FromSeconds(15));
        await Should.ThrowAsync<HttpRequestException>(() => paging.HandleAsync(critical));
        ImmunePagingStatus failing = paging.GetStatus();
        (failing.Failed, failing.FailingSince, failing.Sent).ShouldBe((2L, (DateTimeOffset?)At, 0L));
        failing.LastProblem.ShouldBe("HttpRequestException: HTTP 500");
        _logger.WithName("PageFailed").Count.ShouldBe(1); // at most once a minute

        _pager.Problem = static () => null;
        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.Sent); // the pending page goes out

        _pager.Sent.ShouldHaveSingleItem().Action.ShouldBe("trigger");
        paging.GetStatus().FailingSince.ShouldBeNull();
    }

    [Fact]
    public async Task HandleAsync_PagerRefuses_CountedAndLoggedAsRefused_NotRecordedAsSent()
    {
        ImmunePaging paging = Paging();
        EventEnvelope critical = Critical(7, At);
        _pager.Problem = static () => new ImmunePageRefusedException("HTTP 404: no such route");

        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.Refused);

        ImmunePagingStatus status = paging.GetStatus();
        (status.Sent, status.Refused, status.Failed).ShouldBe((0L, 1L, 0L));
        _logger.WithName("PageRefused").ShouldHaveSingleItem().GetStructuredStateValue("Reason").ShouldBe("HTTP 404: no such route");
        _pager.Problem = static () => null;
        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.Sent); // the ledger never took the refusal as sent
    }

    [Fact]
    public void DedupKey_TheFleetIdentity_AtMost255Characters_UniqueAndWholeCharacters()
    {
        ImmunePaging.DedupKey(Critical(42, At)).ShouldBe("immune_critical_checkout_i1_42");
        ImmunePaging.DedupKey(Envelope(ImmuneEventTypes.CriticalEvent, Critical(42, At).Payload, instance: null)).ShouldBe("immune_critical_checkout_-_42");
        ImmunePaging.DedupKey(Envelope(ImmuneEventTypes.CriticalEvent, Critical(42, At).Payload, instance: "")).ShouldBe("immune_critical_checkout_-_42");

        string longSource = new('s', 300);
        string a = ImmunePaging.DedupKey(Envelope(ImmuneEventTypes.CriticalEvent, Critical(1, At).Payload, longSource + "a"));
        string b = ImmunePaging.DedupKey(Envelope(ImmuneEventTypes.CriticalEvent, Critical(1, At).Payload, longSource + "b"));
        a.Length.ShouldBeLessThanOrEqualTo(ImmunePaging.MaxDedupKeyLength);
        b.Length.ShouldBeLessThanOrEqualTo(ImmunePaging.MaxDedupKeyLength);
        a.ShouldNotBe(b);
        a.ShouldStartWith("immune_critical_sss");

        foreach (int length in Enumerable.Range(225, 40))
        {
            string emoji = string.Concat(Enumerable.Repeat("😀", length / 2));
            string key = ImmunePaging.DedupKey(Envelope(ImmuneEventTypes.CriticalEvent, Critical(1, At).Payload, emoji));
            key.Length.ShouldBeLessThanOrEqualTo(ImmunePaging.MaxDedupKeyLength);
            System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(key)).ShouldBe(key); // no half surrogate pair
        }
    }
}
