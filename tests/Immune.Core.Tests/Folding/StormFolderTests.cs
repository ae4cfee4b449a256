using Immune.Folding;
using Immune.Storage;

namespace Immune.Tests.Folding;

/// <summary>
/// <see cref="StormFolder"/> as the state it is: no lock and no timer of its own. It folds repeats into the event they
/// repeat and tells the service when its timer must fire next (and only when that changes).
/// </summary>
public sealed class StormFolderTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private static readonly NewImmuneEvent Storm = new(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "5xx");
    private readonly EventStore _store = new(100, tracksRepeats: true);
    private readonly StormFolder _folder;

    public StormFolderTests() => _folder = new StormFolder(Window, 100, _store, pipeline: null);

    /// <summary>Publishes as the service does: fold, or record as the next id.</summary>
    private long Publish(NewImmuneEvent e, DateTimeOffset now)
    {
        long folded = _folder.FoldOrOpen(e, now, now);
        if (folded != 0)
        {
            return folded;
        }

        _store.Add(new ImmuneEvent(_store.LastId + 1, now, e.Severity, e.Type, e.Message));
        return _store.LastId;
    }

    [Fact]
    public void FoldOrOpen_RepeatsWithinTheWindow_FoldIntoTheFirstEvent_OthersOpenTheirOwn()
    {
        long first = Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(1)).ShouldBe(first);
        Publish(Storm, Start.AddSeconds(9)).ShouldBe(first);
        Publish(Storm with { Message = "other" }, Start.AddSeconds(2)).ShouldNotBe(first);
        Publish(Storm, Start.AddSeconds(10)).ShouldNotBe(first); // exactly the window later: a new event

        _store.Get(first).Occurrences.ShouldBe(3);
    }

    [Fact]
    public void TryTakeTimerChange_OnlyWhenTheNextReportChanges()
    {
        _folder.TryTakeTimerChange(Start, out _).ShouldBeFalse(); // nothing pending, nothing armed
        Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(2)); // a first repeat: a report is due when the window closes

        _folder.TryTakeTimerChange(Start.AddSeconds(2), out TimeSpan due).ShouldBeTrue();
        due.ShouldBe(TimeSpan.FromSeconds(8));
        Publish(Storm, Start.AddSeconds(3));
        _folder.TryTakeTimerChange(Start.AddSeconds(3), out _).ShouldBeFalse(); // set for it already

        _folder.Tick(Start.AddSeconds(10)); // the one-shot timer fired: the report is taken
        _folder.IndexedCount.ShouldBe(0);   // its window closed: it folds no more and leaves the index
        _folder.TryTakeTimerChange(Start.AddSeconds(10), out _).ShouldBeFalse(); // nothing pending: the spent timer stays idle

        Publish(Storm, Start.AddSeconds(11));
        Publish(Storm, Start.AddSeconds(12)); // a new storm: the timer is wanted again
        _folder.TryTakeTimerChange(Start.AddSeconds(12), out due).ShouldBeTrue();
        due.ShouldBe(TimeSpan.FromSeconds(9));
    }

    [Fact]
    public void Tick_BeforeTheWindowCloses_ReportsNothingAndRearmsForTheRest()
    {
        Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(1));
        _folder.TryTakeTimerChange(Start.AddSeconds(1), out _).ShouldBeTrue();

        _folder.Tick(Start.AddSeconds(4)); // early (a timer may fire early): nothing is due yet
        _folder.TryTakeTimerChange(Start.AddSeconds(4), out TimeSpan due).ShouldBeTrue();
        due.ShouldBe(TimeSpan.FromSeconds(6));
    }

    [Fact]
    public void Stop_ReportsEverythingPending_AndWantsNoTimerAfter()
    {
        Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(1));

        _folder.Stop(Start.AddSeconds(2));
        _folder.IndexedCount.ShouldBe(0);
        _folder.TryTakeTimerChange(Start.AddSeconds(2), out _).ShouldBeFalse();
        _folder.Tick(Start.AddSeconds(20)); // a timer callback racing the disposal does nothing
    }
}
