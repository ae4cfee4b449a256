using Immune.Spool;

namespace Immune.Delivery;

/// <summary>
/// The envelopes that wait on disk only: with a spool, those beyond <see cref="ImmuneOptions.QueueCapacity"/> (and
/// every later one while any waits, to keep record order). It counts them, keeps their queue times (their deadlines
/// count from there) and reads them back from the spool in order, a batch at a time. Everything but
/// <see cref="Read"/> runs under the pipeline's lock; the disk read runs outside it.
/// </summary>
internal sealed class DiskBacklog(IEnvelopeSpool spool)
{
    private readonly Queue<long> _queuedAt = new(); // of the envelopes waiting, in sequence order
    private readonly List<(long Sequence, EventEnvelope Envelope)> _read = [];
    private readonly List<PendingEnvelope> _taken = [];

    /// <summary>Gets how many envelopes wait on disk.</summary>
    public long Count { get; private set; }

    /// <summary>Gets the oldest sequence waiting on disk (when <see cref="Count"/> is above zero).</summary>
    public long From { get; private set; }

    /// <summary>Gets the oldest sequence waiting on disk, or <see cref="long.MaxValue"/> when none does.</summary>
    public long OldestSequence => Count > 0 ? From : long.MaxValue;

    /// <summary>Notes an envelope written to the spool that waits there rather than in memory.</summary>
    public void Add(in PendingEnvelope item)
    {
        if (Count++ == 0)
        {
            From = item.Sequence;
        }

        _queuedAt.Enqueue(item.QueuedAt);
    }

    /// <summary>Gets whether the next envelope to deliver waits here: some do, and memory holds none older.</summary>
    public bool IsNext(DeliveryQueue memory) => Count > 0 && !(memory.TryPeek(out PendingEnvelope head) && head.Sequence < From);

    /// <summary>Gets the queue time of the oldest envelope waiting here.</summary>
    public bool TryPeekQueuedAt(out long queuedAt) => _queuedAt.TryPeek(out queuedAt);

    /// <summary>Forgets every envelope waiting here (they stay in the spool); returns how many.</summary>
    public long Clear()
    {
        long count = Count;
        (Count, From) = (0, 0);
        _queuedAt.Clear();
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

    /// <summary>Takes what <see cref="Read"/> gave, as envelopes to deliver with their queue times, and forgets them here.</summary>
    public ReadOnlySpan<PendingEnvelope> Take()
    {
        _taken.Clear();
        foreach ((long sequence, EventEnvelope envelope) in _read)
        {
            _taken.Add(PendingEnvelope.Replayed(sequence, envelope) with { QueuedAt = _queuedAt.Dequeue() });
        }

        _read.Clear();
        Count -= _taken.Count;
        From = _taken[^1].Sequence + 1;
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_taken); // valid until the next read; the batch copies it
    }

    /// <summary>Gives up on everything waiting here after a failed read; returns how many, and the first for the drop report.</summary>
    public long Lose(out PendingEnvelope first)
    {
        first = PendingEnvelope.Replayed(From, _read.Count > 0 ? _read[0].Envelope : Unreadable(From));
        _read.Clear();
        return Clear();
    }

    /// <summary>A stand-in naming a sequence whose envelope could not be read back, for the drop report.</summary>
    private static EventEnvelope Unreadable(long sequence)
        => new($"sequence_{sequence}", ImmuneEventTypes.EventPublished, "spool", null, default,
            new ImmuneEventPublishedPayload(0, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "unreadable", default), new EventMeta("0"));
}
