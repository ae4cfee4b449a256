using Immune.Folding;

namespace Immune.Tests.Folding;

public sealed class FoldIndexTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private static FoldKey Key(string message = "m", ImmuneSeverity severity = ImmuneSeverity.Warning)
        => new(severity, ImmuneEventType.ErrorSpike, message, null, null);

    [Fact]
    public void FoldOrOpen_WithinTheWindow_ReturnsTheEventAndSaysTheFirstRepeatOnce()
    {
        var index = new FoldIndex(Window);
        index.FoldOrOpen(Key(), Start, nextId: 1, Start, out _).ShouldBe(0); // indexed as event 1

        index.FoldOrOpen(Key(), Start.AddSeconds(9.999), nextId: 2, Start.AddSeconds(9.999), out bool first).ShouldBe(1);
        first.ShouldBeTrue();
        index.FoldOrOpen(Key(), Start.AddSeconds(9.999), nextId: 2, Start.AddSeconds(9.999), out first).ShouldBe(1);
        first.ShouldBeFalse();
        index.NextReportAt.ShouldBe(Start + Window);
        index.Count.ShouldBe(1);
    }

    [Fact]
    public void FoldOrOpen_AtTheEndOfTheWindowOrDifferent_IndexesANewEvent()
    {
        var index = new FoldIndex(Window);
        index.FoldOrOpen(Key(), Start, 1, Start, out _);

        FoldKey[] others =
        [
            Key("other"), Key(severity: ImmuneSeverity.Critical), Key() with { AgentId = "a" }, Key() with { Module = "m" },
            Key() with { Type = ImmuneEventType.PolicyViolation },
        ];
        long next = 2;
        foreach (FoldKey other in others)
        {
            index.FoldOrOpen(other, Start, next++, Start, out _).ShouldBe(0);
        }

        index.FoldOrOpen(Key(), Start + Window, next, Start + Window, out _).ShouldBe(0);
        index.FoldOrOpen(Key(), Start + Window, next + 1, Start + Window, out _).ShouldBe(next); // the new one folds now
        index.NextReportAt.ShouldBe(Start + Window + Window);
    }

    [Fact]
    public void Close_SeverityChanged_StopsFoldingAtTheOldSeverityButKeepsTheReport()
    {
        var index = new FoldIndex(Window);
        index.FoldOrOpen(Key(), Start, 1, Start, out _);
        index.FoldOrOpen(Key(), Start, 2, Start, out _);

        index.Close(new ImmuneEvent(1, Start, ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "m"));

        index.FoldOrOpen(Key(), Start.AddSeconds(1), 2, Start.AddSeconds(1), out _).ShouldBe(0);
        var reports = new List<long>();
        index.TakeClosed(Start + Window, 1, reports);
        reports.ShouldBe([1L]);
    }

    [Fact]
    public void TakeClosed_ReportsRepeatedEventsInIdOrder_WhenClosedOrLeavingTheStore()
    {
        var index = new FoldIndex(Window);
        for (int id = 1; id <= 4; id++)
        {
            index.FoldOrOpen(Key($"m{id}"), Start.AddSeconds(id), id, Start.AddSeconds(id), out _);
        }

        index.FoldOrOpen(Key("m3"), Start.AddSeconds(5), 5, Start.AddSeconds(5), out _);
        index.FoldOrOpen(Key("m1"), Start.AddSeconds(5), 5, Start.AddSeconds(5), out _);
        index.FoldOrOpen(Key("m4"), Start.AddSeconds(5), 5, Start.AddSeconds(5), out _);
        var reports = new List<long>();

        index.TakeClosed(Start.AddSeconds(5), firstRetainedId: 2, reports); // event 1 leaves the store: reported early
        reports.ShouldBe([1L]);
        index.Count.ShouldBe(3);

        index.TakeClosed(Start.AddSeconds(13), firstRetainedId: 2, reports); // 2 and 3 closed; only 3 was repeated
        reports.ShouldBe([1L, 3L]);
        index.Count.ShouldBe(1);
        index.NextReportAt.ShouldBe(Start.AddSeconds(14));

        index.TakeAll(reports);
        reports.ShouldBe([1L, 3L, 4L]);
        index.Count.ShouldBe(0);
        index.NextReportAt.ShouldBeNull();
    }

    [Fact]
    public void TakeClosed_ExpiringAnEventWhoseKeyALaterOneTook_KeepsTheLaterOne()
    {
        var index = new FoldIndex(Window);
        index.FoldOrOpen(Key(), Start, 1, Start, out _);
        index.FoldOrOpen(Key(), Start + Window, 2, Start + Window, out _).ShouldBe(0);

        index.TakeClosed(Start + Window, 1, []); // expires event 1, must not unmap event 2

        index.FoldOrOpen(Key(), Start + Window, 3, Start + Window, out _).ShouldBe(2);
    }
}
