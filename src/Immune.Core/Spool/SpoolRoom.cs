namespace Immune.Spool;

/// <summary>
/// The spool's capacity accounting: only the bytes of records not yet settled count against it, and the last tenth
/// is kept for CRITICAL envelopes. Guarded by the spool's append lock.
/// </summary>
internal sealed class SpoolRoom(long capacity)
{
    private readonly Queue<(long Sequence, int Size)> _unsettled = new(); // the records written, oldest first, until settled
    private long _unsettledBytes;

    /// <summary>Whether <paramref name="bytes"/> more fit, once every record through <paramref name="settledThrough"/> is forgotten.</summary>
    public bool Admits(long bytes, bool critical, long settledThrough)
    {
        while (_unsettled.TryPeek(out var oldest) && oldest.Sequence <= settledThrough)
        {
            _unsettled.Dequeue();
            _unsettledBytes -= oldest.Size;
        }

        long limit = critical ? capacity : capacity - (capacity / 10);
        return _unsettledBytes + bytes <= limit;
    }

    /// <summary>Counts a record written.</summary>
    public void Written(long sequence, int size)
    {
        _unsettled.Enqueue((sequence, size));
        _unsettledBytes += size;
    }
}
