using Immune.Delivery;

namespace Immune.Spool;

/// <summary>
/// With a spool, the envelopes queued but not yet written to it, and the turn at writing them. Under the pipeline's
/// lock a publisher only hands its envelopes over (a sequence and a queue time). Once it holds no lock, it takes the
/// write turn: it builds, serializes and writes everything handed over so far, in sequence order, and the pipeline then
/// places each envelope (in memory, on disk, or shed when the spool is full). So the disk never runs under the
/// service's or the pipeline's lock, records land in the files in sequence order, and a publisher returns only once its
/// envelopes are with the operating system: written by its own turn or by one that came before it.
/// </summary>
/// <remarks>
/// Lock order: the turn, then the pipeline's lock or the spool's, one at a time. The queue is guarded by the pipeline's
/// lock; the buffers of a turn by the turn.
/// </remarks>
internal sealed class SpoolHandOff(IEnvelopeSpool spool, EnvelopeFactory envelopes)
{
    private const int MaxPerTurn = 256;

    private readonly Queue<PendingEnvelope> _waiting = new();
    private readonly PendingEnvelope[] _writing = new PendingEnvelope[MaxPerTurn + 1]; // + 1: a turn never splits a CRITICAL publish
    private readonly SpoolWrite[] _results = new SpoolWrite[MaxPerTurn + 1];

    /// <summary>Gets the write turn: hold it (and no other lock) to call <see cref="Take"/>, <see cref="Write"/> and <see cref="Place"/>.</summary>
    public object Turn { get; } = new();

    /// <summary>Gets how many envelopes wait to be written.</summary>
    public int Count => _waiting.Count;

    /// <summary>Gets the oldest sequence waiting to be written, or <see cref="long.MaxValue"/> when none does.</summary>
    public long OldestSequence => _waiting.TryPeek(out PendingEnvelope head) ? head.Sequence : long.MaxValue;

    /// <summary>Gets the oldest envelope waiting to be written.</summary>
    public bool TryPeek(out PendingEnvelope head) => _waiting.TryPeek(out head);

    /// <summary>Hands an envelope over, in sequence order.</summary>
    public void Add(in PendingEnvelope item) => _waiting.Enqueue(item);

    /// <summary>Forgets every envelope waiting (disposal gave up on them); returns how many, and the first.</summary>
    public int Clear(out PendingEnvelope first)
    {
        _waiting.TryPeek(out first);
        int count = _waiting.Count;
        _waiting.Clear();
        return count;
    }

    /// <summary>Copies the oldest envelopes waiting (up to a turn's worth) into the turn's buffer, leaving them counted as waiting.</summary>
    public int Take()
    {
        int count = 0;
        foreach (PendingEnvelope item in _waiting)
        {
            if (count >= MaxPerTurn && !_writing[count - 1].Leads)
            {
                break; // a turn's worth, and the last is no lead whose critical event would be left to the next turn
            }

            _writing[count++] = item;
        }

        return count;
    }

    /// <summary>Builds and writes the <paramref name="count"/> envelopes taken, outside the pipeline's lock.</summary>
    public void Write(int count, long settledThrough)
    {
        for (int i = 0; i < count; i++)
        {
            ref PendingEnvelope item = ref _writing[i];
            item = item with { Built = envelopes.Create(item) }; // the loop gets it built: the spool needs its id and bytes now
            if (item.Leads && i + 1 < count)
            {
                ref PendingEnvelope follower = ref _writing[i + 1];
                follower = follower with { Built = envelopes.Create(follower) };
                (_results[i], _results[i + 1]) = spool.WritePair(item, follower, settledThrough); // written or refused together
                i++;
            }
            else
            {
                _results[i] = spool.Write(item, settledThrough);
            }
        }
    }

    /// <summary>Removes the <paramref name="index"/>th envelope written from the queue and gives it, built, with what the spool did with it.</summary>
    public SpoolWrite Place(int index, out PendingEnvelope item)
    {
        _waiting.Dequeue();
        item = _writing[index];
        _writing[index] = default; // the loop owns it now: the turn's buffer must not keep it alive
        return _results[index];
    }
}
