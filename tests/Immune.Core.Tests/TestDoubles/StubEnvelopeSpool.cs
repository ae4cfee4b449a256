using Immune.Delivery;
using Immune.Spool;

namespace Immune.Tests.TestDoubles;

/// <summary>
/// An <see cref="IEnvelopeSpool"/> in memory: it records what is written (answering as told), reads back what it holds,
/// and fails or throws on a read as told. Durability, recovery and the freeze are not its business.
/// </summary>
internal sealed class StubEnvelopeSpool : IEnvelopeSpool
{
    /// <summary>Gets the records it holds, in order: those written, and any a test puts there.</summary>
    public List<(long Sequence, EventEnvelope Envelope)> Records { get; } = [];

    /// <summary>Gets every write: the envelope's sequence and the settled-through sequence it came with.</summary>
    public List<(long Sequence, long SettledThrough)> Writes { get; } = [];

    public List<(long From, int Max)> Reads { get; } = [];

    /// <summary>Gets or sets what a write answers for a sequence; written by default.</summary>
    public Func<long, SpoolWrite> Answer { get; set; } = static _ => SpoolWrite.Written;

    public bool Fails { get; set; }

    public bool Throws { get; set; }

    public bool SyncsEveryWrite => false;

    public bool Unavailable => Fails;

    public SpoolWrite Write(in PendingEnvelope item, long settledThrough)
    {
        Writes.Add((item.Sequence, settledThrough));
        SpoolWrite answer = Answer(item.Sequence);
        if (answer == SpoolWrite.Written)
        {
            Records.Add((item.Sequence, item.Built ?? throw new InvalidOperationException("Only built envelopes are spooled.")));
        }

        return answer;
    }

    public (SpoolWrite Lead, SpoolWrite Follower) WritePair(in PendingEnvelope lead, in PendingEnvelope follower, long settledThrough)
    {
        Pairs.Add((lead.Sequence, follower.Sequence));
        return (Write(lead, settledThrough), Write(follower, settledThrough));
    }

    /// <summary>Gets the pairs written together: the sequences of a lead and its critical event.</summary>
    public List<(long Lead, long Follower)> Pairs { get; } = [];

    public bool Read(long fromSequence, int max, List<(long Sequence, EventEnvelope Envelope)> into)
    {
        Reads.Add((fromSequence, max));
        if (Throws)
        {
            throw new IOException("the disk went away");
        }

        into.AddRange(Records.Where(r => r.Sequence >= fromSequence).Take(max));
        return !Fails;
    }

    public ValueTask WaitDurableAsync(long sequence) => ValueTask.CompletedTask;

    public void Recover(Action<EventEnvelope> replay)
    {
    }

    public void Freeze(long settledThrough)
    {
    }
}
