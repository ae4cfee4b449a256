using Immune.Tests.TestDoubles;
using Immune.Spool;

namespace Immune.Tests.Spool;

/// <summary>The spool on a real disk, in a directory of its own per test.</summary>
public sealed class DurableSpoolTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string SpoolPath => _temp.Path;

    public void Dispose() => _temp.Dispose();

    internal static EventEnvelope Envelope(long eventId, ImmuneSeverity severity = ImmuneSeverity.Info, string message = "m")
    {
        DateTimeOffset at = DateTimeOffset.FromUnixTimeMilliseconds(1_703_001_234_567 + eventId);
        return new EventEnvelope($"evt_immune_{eventId}_{eventId:x16}", ImmuneEventTypes.EventPublished, "test", null, at,
            new ImmuneEventPublishedPayload(eventId, severity, ImmuneEventType.ErrorSpike, message, at), new EventMeta("c") { InstanceId = "0123456789abcdef" });
    }

    /// <summary>Recovers what a previous owner left, as the pipeline does: every replayed envelope, in order.</summary>
    private static (List<EventEnvelope> Replayed, SpoolRecovery Recovery) Recover(DurableSpool spool)
    {
        var replayed = new List<EventEnvelope>();
        SpoolRecovery recovery = spool.Recover(replayed.Add);
        recovery.Replayed.ShouldBe(replayed.Count);
        return (replayed, recovery);
    }

    private string SegmentFile() => Directory.GetFiles(SpoolPath, "*.seg").OrderBy(f => f, StringComparer.Ordinal).Last();

    private void WriteThree(long settledThrough = 0)
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, syncEveryWrite: false);
        for (int i = 1; i <= 3; i++)
        {
            spool.Append(i, Envelope(i), critical: false, settledThrough: 0).ShouldBe(SpoolWrite.Written);
        }

        spool.Sync(settledThrough).ShouldBeTrue();
    }

    [Fact]
    public void Open_SecondOwner_FailsNamingTheDirectory()
    {
        using DurableSpool first = DurableSpool.Open(SpoolPath, 1 << 20, false);

        var exception = Should.Throw<InvalidOperationException>(() => DurableSpool.Open(SpoolPath, 1 << 20, false));

        exception.Message.ShouldContain(SpoolPath);
        exception.Message.ShouldContain("in use by another ImmuneService");
    }

    [Fact]
    public void Open_CreatesTheDirectoryOwnerOnly()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);

        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(SpoolPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void Open_AfterAnOwnerStopped_RecoversWhatWasNotSettledInOrder()
    {
        WriteThree(settledThrough: 1);

        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        (List<EventEnvelope> replayed, SpoolRecovery recovery) = Recover(spool);

        replayed.Select(e => e.Payload.EventId).ShouldBe([2L, 3L]);
        replayed[0].ShouldBe(Envelope(2), new EnvelopeJsonComparer());
        recovery.DamagedRegions.ShouldBe(0);
    }

    [Fact]
    public void Open_TornTail_KeepsTheIntactRecordsAndMovesTheFileAside()
    {
        WriteThree();
        string file = SegmentFile();
        byte[] data = File.ReadAllBytes(file);
        File.WriteAllBytes(file, data[..^5]); // killed in the middle of the third write

        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        (List<EventEnvelope> replayed, SpoolRecovery recovery) = Recover(spool);

        replayed.Select(e => e.Payload.EventId).ShouldBe([1L, 2L]);
        recovery.DamagedRegions.ShouldBe(1);
        recovery.MovedAside.ShouldBe([file + ".damaged"]);
        File.Exists(file + ".damaged").ShouldBeTrue();
    }

    [Fact]
    public void Open_ZeroFilledRegion_IsCutOffNeverReplayed()
    {
        WriteThree();
        string file = SegmentFile();
        using (var stream = new FileStream(file, FileMode.Append))
        {
            stream.Write(new byte[4096]); // an unclean shutdown that left the file extended with zeroes
        }

        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        (List<EventEnvelope> replayed, SpoolRecovery recovery) = Recover(spool);

        replayed.Select(e => e.Payload.EventId).ShouldBe([1L, 2L, 3L]);
        recovery.DamagedRegions.ShouldBe(1);
    }

    [Fact]
    public void Open_CorruptRecord_CutsFromThereAndMovesTheFileAside()
    {
        WriteThree();
        string file = SegmentFile();
        byte[] data = File.ReadAllBytes(file);
        data[data.Length / 2] ^= 0x20; // inside the second record
        File.WriteAllBytes(file, data);

        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        (List<EventEnvelope> replayed, SpoolRecovery recovery) = Recover(spool);

        replayed.Select(e => e.Payload.EventId).ShouldBe([1L]);
        recovery.DamagedRegions.ShouldBe(1);
    }

    [Fact]
    public void Sync_AfterReopening_DeletesTheFilesItRecoveredFrom()
    {
        WriteThree(settledThrough: 3);
        string old = SegmentFile();

        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        Recover(spool).Replayed.ShouldBeEmpty();
        spool.Sync(0).ShouldBeTrue();

        File.Exists(old).ShouldBeFalse();
    }

    [Fact]
    public void Sync_SegmentsFullySettled_AreDeletedAndTheirBytesFreed()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        string big = new('x', 4000);
        long sequence = 0;
        while (Directory.GetFiles(SpoolPath, "*.seg").Length < 3)
        {
            spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: 0).ShouldBe(SpoolWrite.Written);
        }

        long settled = sequence - 1;
        spool.Sync(settled).ShouldBeTrue(); // all but the last envelope settled: only the segment holding it stays

        Directory.GetFiles(SpoolPath, "*.seg").Length.ShouldBe(1);
        for (int i = 0; i < 150; i++)
        {
            spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: settled).ShouldBe(SpoolWrite.Written); // room again
        }
    }

    [Fact]
    public void Read_AcrossSegments_GivesTheRecordsFromASequenceOnInOrder()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        string big = new('x', 4000);
        long sequence = 0;
        while (Directory.GetFiles(SpoolPath, "*.seg").Length < 3)
        {
            spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: 0).ShouldBe(SpoolWrite.Written);
        }

        var read = new List<(long Sequence, EventEnvelope Envelope)>();
        for (long from = 1; from <= sequence; from += read.Count)
        {
            read.Clear();
            spool.Read(from, 7, read).ShouldBeTrue();
            read.Select(r => r.Sequence).ShouldBe(Enumerable.Range((int)from, (int)Math.Min(7, sequence - from + 1)).Select(i => (long)i));
            read.ShouldAllBe(r => r.Envelope.Payload.EventId == r.Sequence);
        }

        read.Clear();
        spool.Read(5, 3, read).ShouldBeTrue(); // back to an earlier place: from the start of its segment
        read.Select(r => r.Sequence).ShouldBe([5L, 6L, 7L]);
        read.Clear();
        spool.Read(sequence + 1, 3, read).ShouldBeTrue();
        read.ShouldBeEmpty();
    }

    [Fact]
    public async Task WaitDurable_AfterAnAppend_ForcesItToTheDiskOnceAndCoversEverythingWrittenBefore()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, syncEveryWrite: true);
        spool.Append(1, Envelope(1), critical: false, settledThrough: 0).ShouldBe(SpoolWrite.Written);
        spool.Append(2, Envelope(2), critical: false, settledThrough: 0).ShouldBe(SpoolWrite.Written);
        spool.Turn.DurableThrough.ShouldBe(0); // appends only hand the bytes to the operating system

        (await spool.WaitDurableAsync(1)).ShouldBeTrue();
        (await spool.WaitDurableAsync(2)).ShouldBeTrue(); // covered by the first: no second fsync

        (spool.Turn.DurableThrough, spool.Turn.Forced).ShouldBe((2L, 1L));
    }

    [Fact]
    public void WaitDurable_ConcurrentWriters_ShareFsyncs()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 64 << 20, syncEveryWrite: true);
        var gate = new object();
        long sequence = 0;
        const int Writers = 8, Each = 100;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(Writers);
        Thread[] threads = [.. Enumerable.Range(0, Writers).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < Each; i++)
            {
                long mine;
                lock (gate) // the pipeline's lock: sequences are appended in order
                {
                    mine = ++sequence;
                    if (spool.Append(mine, Envelope(mine), critical: false, settledThrough: 0) != SpoolWrite.Written) failures.Enqueue($"append {mine}");
                }

                if (!spool.WaitDurableAsync(mine).AsTask().GetAwaiter().GetResult() || spool.Turn.DurableThrough < mine) failures.Enqueue($"durable {mine}");
            }
        }))];

        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join(Events.HangGuard).ShouldBeTrue();

        failures.ShouldBeEmpty();
        spool.Turn.DurableThrough.ShouldBe(Writers * Each);
        spool.Turn.Forced.ShouldBeLessThan(Writers * Each); // group commit: writers that came during an fsync shared the next
    }

    [Fact]
    public void Append_SettledRecords_FreeTheirSpaceAtOnceWithoutWaitingForASync()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        string big = new('x', 3_500);

        for (long sequence = 1; sequence <= 700; sequence++)
        {
            // Each envelope is settled before the next is written, as with a healthy stream: 2.4 MB through a 1 MiB spool.
            spool.Append(sequence, Envelope(sequence, message: big), critical: false, settledThrough: sequence - 1).ShouldBe(SpoolWrite.Written, $"envelope {sequence}");
        }

        spool.Append(701, Envelope(701, message: big), critical: false, settledThrough: 0).ShouldBe(SpoolWrite.Written); // 1 unsettled + this
    }

    [Fact]
    public void Append_SettledThroughOnlyPartly_CountsTheUnsettledRest()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        string big = new('x', 4000);
        long sequence = 0;
        while (spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: 0) == SpoolWrite.Written)
        {
        }

        long full = sequence - 1;
        spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: 1).ShouldBe(SpoolWrite.Written); // one freed, one taken
        spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: 1).ShouldBe(SpoolWrite.Full);
        spool.Append(sequence, Envelope(sequence, message: big), critical: false, settledThrough: full).ShouldBe(SpoolWrite.Written);
    }

    [Fact]
    public void Append_Full_RefusesInfoBeforeCritical()
    {
        using DurableSpool spool = DurableSpool.Open(SpoolPath, 1 << 20, false);
        string big = new('x', 4000);
        long sequence = 0;
        while (spool.Append(++sequence, Envelope(sequence, message: big), critical: false, settledThrough: 0) == SpoolWrite.Written)
        {
        }

        spool.Append(++sequence, Envelope(sequence, ImmuneSeverity.Critical, big), critical: true, settledThrough: 0).ShouldBe(SpoolWrite.Written); // the kept tenth
        (sequence * 4100).ShouldBeLessThan(1 << 20);
        (sequence * 4100).ShouldBeGreaterThan(800_000);
    }

    private sealed class EnvelopeJsonComparer : IEqualityComparer<EventEnvelope>
    {
        public bool Equals(EventEnvelope? x, EventEnvelope? y) => ImmuneJson.Serialize(x!) == ImmuneJson.Serialize(y!);

        public int GetHashCode(EventEnvelope obj) => 0;
    }
}
