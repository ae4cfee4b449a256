using Immune.Delivery;
using Immune.Folding;
using Immune.Storage;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Folding;

/// <summary>
/// <see cref="StormFolder"/> as the state it is: no lock and no timer of its own. It folds repeats into the event they
/// repeat, queues one report per repeated event into the caller's intake when its window closes, and tells the service
/// when its timer must fire next (and only when that changes).
/// </summary>
public sealed class StormFolderTests : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private static readonly NewImmuneEvent Storm = new(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "5xx");
    private readonly EventStore _store = new(100, tracksRepeats: true);
    private readonly StormFolder _folder;
    private readonly InMemoryEventStream _stream = new();
    private readonly PipelineHarness _harness;

    public StormFolderTests()
    {
        _folder = new StormFolder(Window, 100, _store);
        _harness = new PipelineHarness(_stream, new FakeTimeProvider(Start));
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    /// <summary>Runs a step as the service does (under its lock, announced after it); returns how many reports it queued.</summary>
    private int ReportsOf(PipelineHarness.Step step) => _harness.Queue(step).Count;

    /// <summary>Publishes as the service does: fold, or record as the next id.</summary>
    private long Publish(NewImmuneEvent e, DateTimeOffset now, int reportsDue = 0)
    {
        long folded = 0;
        ReportsOf((ref DeliveryIntake reports) => folded = _folder.FoldOrOpen(e, now, now, ref reports)).ShouldBe(reportsDue);
        if (folded != 0)
        {
            return folded;
        }

        _store.Add(new ImmuneEvent(_store.LastId + 1, now, e.Severity, e.Type, e.Message));
        return _store.LastId;
    }

    private async Task<IReadOnlyList<EventEnvelope>> ReportsDelivered()
    {
        await _harness.Pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        return [.. _stream.Envelopes.Where(e => e.Type == ImmuneEventTypes.EventRepeated)];
    }

    [Fact]
    public void FoldOrOpen_RepeatsWithinTheWindow_FoldIntoTheFirstEvent_OthersOpenTheirOwn()
    {
        long first = Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(1)).ShouldBe(first);
        Publish(Storm, Start.AddSeconds(9)).ShouldBe(first);
        Publish(Storm with { Message = "other" }, Start.AddSeconds(2)).ShouldNotBe(first);
        Publish(Storm, Start.AddSeconds(10), reportsDue: 1).ShouldNotBe(first); // exactly the window later: a new event, after the report of the first

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

        ReportsOf((ref DeliveryIntake r) => _folder.Tick(Start.AddSeconds(10), ref r)).ShouldBe(1); // the one-shot timer fired: the report goes out
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

        ReportsOf((ref DeliveryIntake r) => _folder.Tick(Start.AddSeconds(4), ref r)).ShouldBe(0); // early (a timer may fire early): nothing is due yet
        _folder.TryTakeTimerChange(Start.AddSeconds(4), out TimeSpan due).ShouldBeTrue();
        due.ShouldBe(TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task Stop_ReportsEverythingPending_AndWantsNoTimerAfter()
    {
        long first = Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(1));
        Publish(Storm with { Message = "other" }, Start.AddSeconds(1));
        Publish(Storm with { Message = "other" }, Start.AddSeconds(2));
        Publish(Storm with { Message = "once" }, Start.AddSeconds(2)); // never repeated: nothing to report

        ReportsOf((ref DeliveryIntake r) => _folder.Stop(Start.AddSeconds(3), ref r)).ShouldBe(2);
        _folder.IndexedCount.ShouldBe(0);
        _folder.TryTakeTimerChange(Start.AddSeconds(3), out _).ShouldBeFalse();
        ReportsOf((ref DeliveryIntake r) => _folder.Tick(Start.AddSeconds(20), ref r)).ShouldBe(0); // a timer callback racing the disposal does nothing

        IReadOnlyList<EventEnvelope> reports = await ReportsDelivered();
        reports.Select(e => e.Payload).Cast<ImmuneEventRepeatedPayload>().Select(p => (p.EventId, p.Occurrences)).ShouldBe([(first, 2L), (first + 1, 2L)]);
    }

    [Fact]
    public async Task FoldOrOpen_ReportsTheWindowsThatClosedOnTheWay_BeforeTheNewEvent()
    {
        long first = Publish(Storm, Start);
        Publish(Storm, Start.AddSeconds(1));

        Publish(Storm with { Message = "later" }, Start.AddSeconds(11), reportsDue: 1); // the storm's window closed meanwhile

        (await ReportsDelivered()).ShouldHaveSingleItem().Payload.EventId.ShouldBe(first);
    }
}
