namespace Immune.Spool;

/// <summary>The spool's read-back of this owner's own records: the backlog the pipeline keeps on disk rather than in memory.</summary>
internal sealed partial class DurableSpool
{
    /// <summary>
    /// Reads back up to <paramref name="max"/> records of this run with sequences from <paramref name="fromSequence"/>
    /// on, in order, into <paramref name="into"/>: the backlog the pipeline keeps on disk rather than in memory.
    /// </summary>
    /// <returns>False when the disk failed; the spool is then unavailable.</returns>
    public bool Read(long fromSequence, int max, List<(long Sequence, EventEnvelope Envelope)> into)
    {
        lock (_gate)
        {
            if (Unavailable)
            {
                return false;
            }

            try
            {
                (SpoolSegment segment, long offset) = Start(fromSequence);
                int index = _segments.IndexOf(segment);
                while (into.Count < max && index < _segments.Count)
                {
                    segment = _segments[index];
                    if (offset >= segment.Length)
                    {
                        (index, offset) = (index + 1, 0);
                        continue;
                    }

                    // One read for many records: a chunk of the segment, grown when one record is larger than it.
                    int wanted = (int)Math.Min(segment.Length - offset, Math.Max(ReadChunk, _readBuffer.Length));
                    if (_readBuffer.Length < wanted)
                    {
                        _readBuffer = new byte[wanted];
                    }

                    int filled = RandomAccess.Read(segment.Handle!, _readBuffer.AsSpan(0, wanted), offset);
                    ReadOnlySpan<byte> chunk = _readBuffer.AsSpan(0, filled);
                    int used = 0;
                    while (into.Count < max && SpoolRecord.TryDecode(chunk[used..], out long sequence, out ReadOnlySpan<byte> payload, out int size))
                    {
                        used += size;
                        if (sequence >= fromSequence)
                        {
                            into.Add((sequence, ImmuneJson.DeserializeEnvelope(payload)));
                            _readCursor = (segment, offset + used, sequence + 1);
                        }
                    }

                    if (used == 0)
                    {
                        int length = chunk.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(chunk) : -1;
                        if (length < 0 || SpoolRecord.HeaderSize + (long)length <= filled)
                        {
                            throw new IOException($"The spool segment {segment.Number} no longer reads back at offset {offset}.");
                        }

                        _readBuffer = new byte[SpoolRecord.HeaderSize + length]; // a record larger than the chunk: read it whole next
                        continue;
                    }

                    offset += used;
                }

                return true;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ObjectDisposedException or System.Text.Json.JsonException)
            {
                Volatile.Write(ref _unavailable, true);
                return false;
            }
        }
    }

    /// <summary>Where to start reading for <paramref name="fromSequence"/>: where the last read stopped, or the start of the segment holding it.</summary>
    private (SpoolSegment Segment, long Offset) Start(long fromSequence)
    {
        if (_readCursor is { } cursor && cursor.Sequence <= fromSequence && _segments.Contains(cursor.Segment))
        {
            return (cursor.Segment, cursor.Offset);
        }

        foreach (SpoolSegment segment in _segments)
        {
            if (segment.LastSequence is long last && last >= fromSequence)
            {
                return (segment, 0);
            }
        }

        return (_segments[^1], _segments[^1].Length);
    }
}
