using Immune.Folding;

namespace Immune.Tests.Folding;

public sealed class FoldIndexTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private static ImmuneEvent Event(long id, DateTimeOffset at, string message = "m", ImmuneSeverity severity = ImmuneSeverity.Warning)
        => new(id, at, severity, ImmuneEventType.ErrorSpike, message);

    private static FoldKey Key(string message = "m", ImmuneSeverity severity = ImmuneSeverity.Warning)
        => new(severity, ImmuneEventType.ErrorSpike, message, null, null);

    [Fact]
    public void TryFold_WithinTheWindow_ReturnsTheEventAndSaysTheFirstRepeatOnce()
    {
        var index = new FoldIndex(Window);
        index.Open(Event(1, Start));

        index.TryFold(Key(), Start.AddSeconds(9.999), out bool first).ShouldBe(1);
        first.ShouldBeTrue();
        index.TryFold(Key(), Start.AddSeconds(9.999), out first).ShouldBe(1);
        first.ShouldBeFalse();
        index.NextReportAt.ShouldBe(Start + Window);
    }

    [Fact]
    public void TryFold_AtOrAfterTheWindowOrDifferent_ReturnsZero()
    {
        var index = new FoldIndex(Window);
        index.Open(Event(1, Start));

        index.TryFold(Key(), Start + Window, out _).ShouldBe(0);
        index.TryFold(Key("other"), Start, out _).ShouldBe(0);
        index.TryFold(Key(severity: ImmuneSeverity.Critical), Start, out _).ShouldBe(0);
        index.TryFold(Key() with { AgentId = "a" }, Start, out _).ShouldBe(0);
        index.TryFold(Key() with { Module = "m" }, Start, out _).ShouldBe(0);
        index.TryFold(Key() with { Type = ImmuneEventType.PolicyViolation }, Start, out _).ShouldBe(0);
        index.NextReportAt.ShouldBeNull();
    }

    [Fact]
    public void Close_SeverityChanged_StopsFoldingAtTheOldSeverityButKeepsTheReport()
    {
        var index = new FoldIndex(Window);
        ImmuneEvent recorded = Event(1, Start);
        index.Open(recorded);
        index.TryFold(Key(), Start, out _);

        index.Close(recorded);

        index.TryFold(Key(), Start.AddSeconds(1), out _).ShouldBe(0);
        var reports = new List<Fold>();
        index.TakeClosed(Start + Window, 1, reports);
        reports.Select(r => r.EventId).ShouldBe([1L]);
    }

    [Fact]
    public void TakeClosed_ReportsRepeatedEventsInIdOrder_WhenClosedOrLeavingTheStore()
    {
        var index = new FoldIndex(Window);
        for (int id = 1; id <= 4; id++)
        {
            index.Open(Event(id, Start.AddSeconds(id), $"m{id}"));
        }

        index.TryFold(Key("m3"), Start.AddSeconds(5), out _);
        index.TryFold(Key("m1"), Start.AddSeconds(5), out _);
        index.TryFold(Key("m4"), Start.AddSeconds(5), out _);
        var reports = new List<Fold>();

        index.TakeClosed(Start.AddSeconds(5), firstRetainedId: 2, reports); // event 1 leaves the store: reported early
        reports.Select(r => r.EventId).ShouldBe([1L]);
        index.Count.ShouldBe(3);

        index.TakeClosed(Start.AddSeconds(13), firstRetainedId: 2, reports); // 2 and 3 closed; only 3 was repeated
        reports.Select(r => r.EventId).ShouldBe([1L, 3L]);
        index.Count.ShouldBe(1);
        index.NextReportAt.ShouldBe(Start.AddSeconds(14));

        index.TakeAll(reports);
        reports.Select(r => r.EventId).ShouldBe([1L, 3L, 4L]);
        index.Count.ShouldBe(0);
        index.NextReportAt.ShouldBeNull();
    }

    [Fact]
    public void Open_IdenticalAfterTheWindow_ReplacesTheClosedOne()
    {
        var index = new FoldIndex(Window);
        index.Open(Event(1, Start));
        index.Open(Event(2, Start + Window));

        index.TryFold(Key(), Start + Window, out _).ShouldBe(2);
        index.TakeClosed(Start + Window, 1, []); // expiring event 1 must not unmap event 2
        index.TryFold(Key(), Start + Window, out _).ShouldBe(2);
    }
}
