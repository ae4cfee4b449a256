using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Fleet;

/// <summary>
/// <see cref="ImmuneFleetView.GetRecordedPerMinute"/>: the events recorded per clock minute, by their severity at
/// publication, kept as the publications apply — a resolved storm still shows as what it was, and a duplicate counts once.
/// </summary>
public sealed class RecordedPerMinuteTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start.AddMinutes(10).AddSeconds(30));

    private static EventEnvelope Published(long eventId, ImmuneSeverity severity, DateTimeOffset at, string? id = null)
        => new(id ?? $"evt_{eventId}", ImmuneEventTypes.EventPublished, "checkout", null, at,
            new ImmuneEventPublishedPayload(eventId, severity, ImmuneEventType.ErrorSpike, "m", at), new EventMeta("c") { InstanceId = "i" });

    [Fact]
    public void CountsEachMinuteBySeverityAtPublication_ResolvedStormsStillShow_DuplicatesOnce()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        for (int i = 0; i < 5; i++)
        {
            EventEnvelope critical = Published(i + 1, ImmuneSeverity.Critical, Start.AddMinutes(8).AddSeconds(i));
            view.Apply(critical);
            view.Apply(critical with
            {
                Id = critical.Id + "_resolved",
                Type = ImmuneEventTypes.SeverityChanged,
                Payload = new ImmuneSeverityChangedPayload(i + 1, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", ImmuneSeverity.Critical, Start.AddMinutes(9)),
            });
        }

        view.Apply(Published(10, ImmuneSeverity.Warning, Start.AddMinutes(10)));
        view.Apply(Published(11, ImmuneSeverity.Info, Start.AddMinutes(10).AddSeconds(20)));
        view.Apply(Published(11, ImmuneSeverity.Info, Start.AddMinutes(10).AddSeconds(20), id: "evt_11_again")); // a copy under another id: the same event
        view.Apply(Published(12, ImmuneSeverity.Info, Start.AddDays(-2))); // older than a day: not kept

        IReadOnlyList<ImmuneFleetMinute> minutes = view.GetRecordedPerMinute(4);

        minutes.Select(m => (m.Start, m.Info, m.Warning, m.Critical)).ShouldBe(
        [
            (Start.AddMinutes(7), 0, 0, 0),
            (Start.AddMinutes(8), 0, 0, 5), // resolved since, shown as what they were
            (Start.AddMinutes(9), 0, 0, 0),
            (Start.AddMinutes(10), 1, 1, 0), // the current minute, partial
        ]);
        view.GetRecordedPerMinute(1440).Sum(m => m.Info + m.Warning + m.Critical).ShouldBe(7);
        Should.Throw<ArgumentOutOfRangeException>(() => view.GetRecordedPerMinute(1441)).ParamName.ShouldBe("minutes");
        Should.Throw<ArgumentOutOfRangeException>(() => view.GetRecordedPerMinute(0));
    }

    [Fact]
    public void ADayLater_TheMinutesOfTheDayBeforeAreGone()
    {
        var view = new ImmuneFleetView(timeProvider: _time);
        view.Apply(Published(1, ImmuneSeverity.Critical, Start.AddMinutes(10)));
        _time.Advance(TimeSpan.FromDays(1));

        view.GetRecordedPerMinute(1440).Sum(m => m.Critical).ShouldBe(0);
        view.Apply(Published(2, ImmuneSeverity.Warning, _time.GetUtcNow()));
        view.GetRecordedPerMinute(1).ShouldHaveSingleItem().Warning.ShouldBe(1);
    }
}
