using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Immune.Spool;

/// <summary>
/// Reads this owner's own records back from the spool's segments: the backlog the pipeline keeps on disk rather than in
/// memory. It reads and parses under no lock: the spool hands it a view of the segments (their handles and the lengths
/// written so far) taken under its append lock, and records below those lengths never change. One reader, the delivery
/// loop, at a time.
/// </summary>
internal sealed class SpoolReader
{
    private const int Chunk = 256 << 10;

    private readonly List<SegmentView> _segments = [];
    private (SpoolSegment Segment, long Offset, long Sequence)? _cursor; // where the last read stopped: the next record
    private byte[] _buffer = [];

    /// <summary>Takes the view of the segments the next read sees; the caller holds the spool's append lock.</summary>
    public void See(List<SpoolSegment> segments)
    {
        _segments.Clear();
        foreach (SpoolSegment segment in segments)
        {
            _segments.Add(new SegmentView(segment, segment.Handle, segment.Length, segment.LastSequence));
        }
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> records with sequences from <paramref name="fromSequence"/> on, in order, into
    /// <paramref name="into"/>, from the segments last seen.
    /// </summary>
    /// <exception cref="IOException">A record no longer reads back, or the disk failed.</exception>
    /// <exception cref="ObjectDisposedException">The spool closed meanwhile.</exception>
    /// <exception cref="System.Text.Json.JsonException">A record whose checksum holds does not parse.</exception>
    public void Read(long fromSequence, int max, List<(long Sequence, EventEnvelope Envelope)> into)
    {
        (int index, long offset) = Start(fromSequence);
        while (into.Count < max && index < _segments.Count)
        {
            SegmentView segment = _segments[index];
            if (offset >= segment.Length)
            {
                (index, offset) = (index + 1, 0);
                continue;
            }

            // One read for many records: a chunk of the segment, grown when one record is larger than it.
            int wanted = (int)Math.Min(segment.Length - offset, Math.Max(Chunk, _buffer.Length));
            if (_buffer.Length < wanted)
            {
                _buffer = new byte[wanted];
            }

            SafeFileHandle handle = segment.Handle ?? throw new ObjectDisposedException(nameof(SpoolSegment));
            int filled = RandomAccess.Read(handle, _buffer.AsSpan(0, wanted), offset);
            ReadOnlySpan<byte> chunk = _buffer.AsSpan(0, filled);
            int used = 0;
            while (into.Count < max && SpoolRecord.TryDecode(chunk[used..], out long sequence, out ReadOnlySpan<byte> payload, out int size))
            {
                used += size;
                if (sequence >= fromSequence)
                {
                    into.Add((sequence, ImmuneJson.DeserializeEnvelope(payload)));
                    _cursor = (segment.Segment, offset + used, sequence + 1);
                }
            }

            if (used == 0)
            {
                int length = chunk.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(chunk) : -1;
                if (length < 0 || SpoolRecord.HeaderSize + (long)length <= filled)
                {
                    throw new IOException($"The spool segment {segment.Segment.Number} no longer reads back at offset {offset}.");
                }

                _buffer = new byte[SpoolRecord.HeaderSize + length]; // a record larger than the chunk: read it whole next
                continue;
            }

            offset += used;
        }
    }

    /// <summary>
    /// Where to start reading for <paramref name="fromSequence"/>: where the last read stopped, or the start of the segment
    /// holding it. Only a segment that holds it or a later record is read: one whose records are all older may be settled
    /// and deleted (its handle closed) while this reads.
    /// </summary>
    private (int Index, long Offset) Start(long fromSequence)
    {
        for (int i = 0; _cursor is { } cursor && cursor.Sequence <= fromSequence && i < _segments.Count; i++)
        {
            if (ReferenceEquals(_segments[i].Segment, cursor.Segment) && _segments[i].LastSequence >= fromSequence)
            {
                return (i, cursor.Offset);
            }
        }

        for (int i = 0; i < _segments.Count; i++)
        {
            if (_segments[i].LastSequence is long last && last >= fromSequence)
            {
                return (i, 0);
            }
        }

        return (_segments.Count, 0);
    }

    /// <summary>A segment as the append lock last saw it: what was written below its length reads back as it is.</summary>
    private readonly record struct SegmentView(SpoolSegment Segment, SafeFileHandle? Handle, long Length, long? LastSequence);
}
