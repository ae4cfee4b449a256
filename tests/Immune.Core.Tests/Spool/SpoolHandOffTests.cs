using System.Diagnostics;
using Immune.Delivery;
using Immune.Spool;
using Immune.Tests.TestDoubles;

namespace Immune.Tests.Spool;

/// <summary>
/// <see cref="SpoolHandOff"/>: envelopes handed over under the pipeline's lock wait, counted, until a write turn has
/// built and written them, a turn's worth at a time and in sequence order; each is then placed with what the spool did
/// with it, and the turn's buffer lets it go.
/// </summary>
public sealed class SpoolHandOffTests
{
    private readonly StubEnvelopeSpool _spool = new();
    private readonly SpoolHandOff _handOff;

    public SpoolHandOffTests() => _handOff = new SpoolHandOff(_spool, new EnvelopeFactory("checkout", "0123456789abcdef"));

    private static PendingEnvelope Item(long sequence) => new(
        sequence, EnvelopeKind.EventPublished, new ImmuneEvent(sequence, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"e{sequence}"),
        DateTimeOffset.UnixEpoch, default, ActivityTraceId.CreateRandom());

    [Fact]
    public void ATurn_TakesATurnsWorthOfTheOldest_WritesThemBuiltInOrder_AndEachLeavesOnlyWhenPlaced()
    {
        for (long s = 1; s <= 300; s++)
        {
            _handOff.Add(Item(s));
        }

        int count = _handOff.Take();
        count.ShouldBe(256); // a turn's worth
        (_handOff.Count, _handOff.OldestSequence).ShouldBe((300, 1L)); // taken, but waiting until placed

        _handOff.Write(count, settledThrough: 0);
        _spool.Writes.Select(w => w.Sequence).ShouldBe(Enumerable.Range(1, 256).Select(s => (long)s));
        _handOff.Count.ShouldBe(300); // written, still not placed

        for (int i = 0; i < count; i++)
        {
            _handOff.Place(i, out PendingEnvelope item).ShouldBe(SpoolWrite.Written);
            item.Sequence.ShouldBe(i + 1);
            item.Built.ShouldNotBeNull().ShouldBeSameAs(_spool.Records[i].Envelope); // the loop gets the very envelope written
        }

        (_handOff.Count, _handOff.OldestSequence).ShouldBe((44, 257L));
        _handOff.Take().ShouldBe(44);
    }

    [Fact]
    public void Place_GivesWhatTheSpoolDidWithEachEnvelope()
    {
        _spool.Answer = s => s == 2 ? SpoolWrite.Full : SpoolWrite.Written;
        _handOff.Add(Item(1));
        _handOff.Add(Item(2));
        _handOff.Add(Item(3));

        int count = _handOff.Take();
        _handOff.Write(count, settledThrough: 7);

        Enumerable.Range(0, count).Select(i => _handOff.Place(i, out _)).ShouldBe([SpoolWrite.Written, SpoolWrite.Full, SpoolWrite.Written]);
        _spool.Writes.ShouldAllBe(w => w.SettledThrough == 7);
        _handOff.Count.ShouldBe(0);
        _handOff.TryPeek(out _).ShouldBeFalse();
    }

    [Fact]
    public void Clear_ForgetsEverythingWaiting_AndNamesTheFirst()
    {
        _handOff.Add(Item(5));
        _handOff.Add(Item(6));

        _handOff.Clear(out PendingEnvelope first).ShouldBe(2);
        first.Sequence.ShouldBe(5);
        (_handOff.Count, _handOff.OldestSequence).ShouldBe((0, long.MaxValue));
    }
}
