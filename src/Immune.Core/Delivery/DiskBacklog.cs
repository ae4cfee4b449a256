using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The envelopes that wait on disk only: with a spool, those beyond <see cref="ImmuneOptions.QueueCapacity"/> (and
/// every later one written while any waits, to keep record order). It keeps their sequences and queue times (their
/// deadlines count from there) and reads them back from the spool in order, a batch at a time, never past an envelope
/// that waits in memory (one the disk refused while it was full). Everything but <see cref="Read"/> runs under the
/// pipeline's lock; the disk read runs outside it.
/// </summary>
internal sealed class DiskBacklog(IEnvelopeSpool spool)
{
    private readonly Queue<(long Sequence, long QueuedAt)> _waiting = new(); // in sequence order
    private readonly List<(long Sequence, EventEnvelope Envelope)> _read = [];
    private readonly List<PendingEnvelope> _taken = [];

    /// <summary>Gets how many envelopes wait on disk.</summary>
    public long Count => _waiting.Count;

    /// <summary>Gets the oldest sequence waiting on disk (when <see cref="Count"/> is above zero).</summary>
    public long From => _waiting.Peek().Sequence;

    /// <summary>Gets the oldest sequence waiting on disk, or <see cref="long.MaxValue"/> when none does.</summary>
    public long OldestSequence => _waiting.TryPeek(out var head) ? head.Sequence : long.MaxValue;

    /// <summary>Notes an envelope written to the spool that waits there rather than in memory.</summary>
    public void Add(in PendingEnvelope item) => _waiting.Enqueue((item.Sequence, item.QueuedAt));

    /// <summary>Gets whether the next envelope to deliver waits here: some do, and memory holds none older.</summary>
    public bool IsNext(DeliveryQueue memory) => Count > 0 && !(memory.TryPeek(out PendingEnvelope head) && head.Sequence < From);

    /// <summary>Gets how many of the oldest waiting here come before <paramref name="before"/> (the oldest in memory), at most <paramref name="max"/>.</summary>
    public int CountBefore(long before, int max)
    {
        int count = 0;
        foreach ((long sequence, _) in _waiting)
        {
            if (count == max || sequence >= before)
            {
                break;
            }

            count++;
        }

        return count;
    }

    /// <summary>Gets the queue time of the oldest envelope waiting here.</summary>
    public bool TryPeekQueuedAt(out long queuedAt)
    {
        bool any = _waiting.TryPeek(out var head);
        queuedAt = head.QueuedAt;
        return any;
    }

    /// <summary>Forgets every envelope waiting here (they stay in the spool); returns how many.</summary>
    public long Clear()
    {
        long count = Count;
        _waiting.Clear();
        return count;
    }

    /// <summary>Reads up to <paramref name="max"/> of the oldest back from the spool, outside the pipeline's lock; false when the spool cannot give them.</summary>
    public bool Read(long from, int max)
    {
        _read.Clear();
        try
        {
            return spool.Read(from, max, _read) && _read.Count > 0;
        }
        catch (Exception)
        {
            return false; // the loop never dies: the caller sheds what waited on a spool that cannot be read, and counts it
        }
    }

    /// <summary>
    /// Takes what <see cref="Read"/> gave, as envelopes to deliver with their queue times, and forgets them here; false
    /// when the spool gave back other sequences than those waiting (then nothing is taken).
    /// </summary>
    public bool TryTake(out ReadOnlySpan<PendingEnvelope> taken)
    {
        _taken.Clear();
        int index = 0;
        foreach ((long sequence, long queuedAt) in _waiting)
        {
            if (index == _read.Count)
            {
                break;
            }

            (long read, EventEnvelope envelope) = _read[index++];
            if (read != sequence)
            {
                taken = default;
                return false;
            }

            _taken.Add(PendingEnvelope.Replayed(sequence, envelope) with { QueuedAt = queuedAt });
        }

        for (int i = 0; i < _taken.Count; i++)
        {
            _waiting.Dequeue();
        }

        _read.Clear();
        taken = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_taken); // valid until the next read; the batch copies it
        return _taken.Count > 0;
    }

    /// <summary>Gives up on everything waiting here after a failed read; returns how many, and the first for the drop report.</summary>
    public long Lose(out PendingEnvelope first)
    {
        long from = OldestSequence;
        first = PendingEnvelope.Replayed(from, _read.Count > 0 ? _read[0].Envelope : Unreadable(from));
        _read.Clear();
        return Clear();
    }

    /// <summary>A stand-in naming a sequence whose envelope could not be read back, for the drop report.</summary>
    private static EventEnvelope Unreadable(long sequence)
        => new($"sequence_{sequence}", ImmuneEventTypes.EventPublished, "spool", null, default,
            new ImmuneEventPublishedPayload(0, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "unreadable", default), new EventMeta("0"));
}
