using Immune.Tests.TestDoubles;
using Immune.Spool;

namespace Immune.Tests.Spool;

/// <summary>The spool's reader on real segment files, with the view of them it is handed.</summary>
public sealed class SpoolReaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public SpoolReaderTests() => Directory.CreateDirectory(_temp.Path);

    public void Dispose() => _temp.Dispose();

    /// <summary>A segment file holding records <paramref name="from"/> through <paramref name="to"/>.</summary>
    private SpoolSegment Segment(long number, long from, long to)
    {
        var segment = new SpoolSegment(number, File.OpenHandle(Path.Combine(_temp.Path, $"{number}.seg"), FileMode.CreateNew, FileAccess.ReadWrite));
        for (long sequence = from; sequence <= to; sequence++)
        {
            byte[] record = SpoolRecord.Encode(sequence, ImmuneJson.SerializeToUtf8Bytes(DurableSpoolTests.Envelope(sequence)));
            RandomAccess.Write(segment.Handle!, record, segment.Length);
            segment.Length += record.Length;
            segment.LastSequence = sequence;
        }

        return segment;
    }

    private static List<long> Read(SpoolReader reader, long from, int max)
    {
        var into = new List<(long Sequence, EventEnvelope Envelope)>();
        reader.Read(from, max, into);
        into.ShouldAllBe(r => r.Envelope.Payload.EventId == r.Sequence);
        return [.. into.Select(r => r.Sequence)];
    }

    [Fact]
    public void Read_AcrossSegments_InOrder_FromWhereTheLastReadStopped()
    {
        var reader = new SpoolReader();
        reader.See([Segment(0, 1, 3), Segment(1, 4, 6)]);

        Read(reader, 2, 3).ShouldBe([2L, 3L, 4L]);
        Read(reader, 5, 10).ShouldBe([5L, 6L]);
        Read(reader, 7, 10).ShouldBeEmpty();
    }

    [Fact]
    public void Read_OnlyWhatTheViewSaw_NotARecordWrittenAfterIt()
    {
        SpoolSegment segment = Segment(0, 1, 2);
        var reader = new SpoolReader();
        reader.See([segment]);
        byte[] later = SpoolRecord.Encode(3, ImmuneJson.SerializeToUtf8Bytes(DurableSpoolTests.Envelope(3)));
        RandomAccess.Write(segment.Handle!, later, segment.Length); // appended after the view was taken

        Read(reader, 1, 10).ShouldBe([1L, 2L]);
    }

    [Fact]
    public void Read_TheSegmentItStoppedInWasSettledAndClosedSinceTheView_ReadsOnFromTheNext()
    {
        // The append lock is not held while the reader reads: the segment it stopped in may be settled (everything in it
        // delivered from memory) and closed by a sync between the view and the read. It must not be read again.
        SpoolSegment first = Segment(0, 1, 4);
        var reader = new SpoolReader();
        reader.See([first, Segment(1, 5, 7)]);
        Read(reader, 1, 2).ShouldBe([1L, 2L]);

        reader.See([first, Segment(2, 8, 9)]);
        first.Close();

        Read(reader, 8, 10).ShouldBe([8L, 9L]);
    }

    [Fact]
    public void Read_ARecordThatNoLongerReadsBack_Throws()
    {
        SpoolSegment segment = Segment(0, 1, 3);
        RandomAccess.Write(segment.Handle!, new byte[] { 0xFF, 0xFF, 0xFF }, 20); // damage inside the first record
        var reader = new SpoolReader();
        reader.See([segment]);

        Should.Throw<IOException>(() => Read(reader, 1, 10));
    }
}
