namespace Immune.Spool;

/// <summary>
/// An append-only spool of envelopes in one directory: segment files of <see cref="SpoolRecord"/>s written before
/// <c>PublishAsync</c> returns (to the operating system at once, to the disk at least every sync interval), a progress
/// file that says which records are settled, and a lock file that gives the directory one owner. Fully settled segments
/// are deleted. Appends run in the pipeline's write turn (<see cref="SpoolHandOff"/>), under no lock of the service or
/// the pipeline; appends and the segment list are guarded by the spool's own lock, which no fsync and no read holds.
/// </summary>
internal sealed class DurableSpool : IDisposable
{
    private const string SegmentSuffix = ".seg";

    // Lock order: the write turn, then _gate (appends, reads, the segment list; never held across an fsync). The
    // pipeline's lock is never held while _gate is. The forcing turn (fsyncs, deletions) is taken outside every lock,
    // and takes _gate only briefly.
    private readonly Gate _gate = new();
    private readonly ForcingTurn _turn = new();
    private readonly string _directory;
    private readonly SpoolRoom _room;
    private readonly long _segmentSize;
    private readonly bool _syncEveryWrite;
    private readonly FileStream _lock;
    private readonly List<SpoolSegment> _segments = [];  // oldest first; the last one is written to
    private readonly List<SpoolSegment> _unflushed = []; // written since their last fsync, but the current one
    private readonly List<string> _recoveredFiles = [];
    private PreviousRun? _previous; // what a previous owner left, until recovered
    private readonly SpoolReader _reader = new();
    private long _writtenThrough, _nextSegment;
    private long _run; // this owner's first segment number: names its sequence space in segment names and progress
    private bool _unavailable;    // closed, or what is on the disk no longer reads back: the spool is given up
    private bool _writesRefused;  // the disk refused a write (full, failing): appends wait for the next sync

    private DurableSpool(string directory, long capacity, bool syncEveryWrite, FileStream lockFile)
        => (_directory, _room, _segmentSize, _syncEveryWrite, _lock) = (directory, new SpoolRoom(capacity), Math.Clamp(capacity / 4, 64 << 10, 16 << 20), syncEveryWrite, lockFile);

    /// <summary>Gets whether a disk fault made the spool give up; envelopes then stay in memory only.</summary>
    public bool Unavailable => Volatile.Read(ref _unavailable);

    /// <summary>Opens (creating owner-only) and locks the directory, and reads what a previous owner left.</summary>
    /// <exception cref="InvalidOperationException">Another service owns the directory.</exception>
    public static DurableSpool Open(string directory, long capacity, bool syncEveryWrite)
    {
        string full = Path.GetFullPath(directory);
        var spool = new DurableSpool(full, capacity, syncEveryWrite, SpoolLock.Take(full));
        try
        {
            spool._previous = PreviousRun.Find(full, SegmentSuffix);
            spool._nextSegment = spool._previous.NextSegment;
            spool._run = spool._nextSegment;
            spool.StartSegment();
            return spool;
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes one envelope: <see cref="SpoolWrite.Full"/> when the spool is full for it (the last tenth is kept for
    /// CRITICAL envelopes), <see cref="SpoolWrite.Unavailable"/> when the disk refuses it (full, failing) or the spool is
    /// closed; the caller then sheds it, or keeps it in memory only. Only unsettled bytes count against the capacity:
    /// the records of sequences up to <paramref name="settledThrough"/> free their space at once, whenever their files
    /// are deleted.
    /// </summary>
    public SpoolWrite Append(long sequence, EventEnvelope envelope, bool critical, long settledThrough)
        => AppendCore(sequence, Encode(sequence, envelope), 0, null, critical, settledThrough).Lead;

    /// <summary>
    /// Writes a CRITICAL publish's two envelopes as <see cref="Append"/> does, admitted or refused together: both are
    /// <see cref="SpoolWrite.Full"/> unless there is room for both.
    /// </summary>
    public (SpoolWrite Lead, SpoolWrite Follower) AppendPair(long leadSequence, EventEnvelope lead, long followerSequence, EventEnvelope follower, long settledThrough)
        => AppendCore(leadSequence, Encode(leadSequence, lead), followerSequence, Encode(followerSequence, follower), critical: true, settledThrough);

    private static byte[] Encode(long sequence, EventEnvelope envelope) => SpoolRecord.Encode(sequence, ImmuneJson.SerializeToUtf8Bytes(envelope));

    private (SpoolWrite Lead, SpoolWrite Follower) AppendCore(long sequence, byte[] record, long followerSequence, byte[]? follower, bool critical, long settledThrough)
    {
        if (Unavailable || Volatile.Read(ref _writesRefused))
        {
            return (SpoolWrite.Unavailable, SpoolWrite.Unavailable);
        }

        lock (_gate)
        {
            if (Unavailable || _writesRefused)
            {
                return (SpoolWrite.Unavailable, SpoolWrite.Unavailable); // closed meanwhile, or the disk refused a write
            }

            if (!_room.Admits(record.Length + (follower?.Length ?? 0), critical, settledThrough))
            {
                return (SpoolWrite.Full, SpoolWrite.Full);
            }

            SpoolWrite written = WriteLocked(sequence, record);
            return (written, follower is null || written != SpoolWrite.Written ? written : WriteLocked(followerSequence, follower));
        }
    }

    /// <summary>
    /// Appends one record to the current segment (starting the next when it is full). When the disk refuses (full,
    /// failing), the torn tail is cut off and appends are refused until the next sync finds room: the envelopes stay in
    /// memory only meanwhile, and what is on the disk still reads back.
    /// </summary>
    private SpoolWrite WriteLocked(long sequence, byte[] record)
    {
        SpoolSegment current = _segments[^1];
        try
        {
            if (current.Length > 0 && current.Length + record.Length > _segmentSize)
            {
                _unflushed.Add(current); // forced to the disk by the next sync, outside this lock
                current = StartSegment(); // the full one stays open: the backlog on disk is read back from it
            }

            RandomAccess.Write(current.Handle!, record, current.Length);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            current.CutTornTail();
            Volatile.Write(ref _writesRefused, true);
            return SpoolWrite.Unavailable;
        }
        catch (ObjectDisposedException)
        {
            Volatile.Write(ref _unavailable, true); // disposed: a write turn that disposal gave up on, late
            return SpoolWrite.Unavailable;
        }

        _writtenThrough = sequence;
        current.Length += record.Length;
        current.LastSequence = sequence;
        _room.Written(sequence, record.Length);
        return SpoolWrite.Written;
    }

    /// <summary>Gets the forcing turn: what is on the disk itself, and how many fsyncs put it there.</summary>
    internal ForcingTurn Turn => _turn;

    /// <summary>Gets the last sequence written (handed to the operating system).</summary>
    internal long WrittenThrough => Volatile.Read(ref _writtenThrough);

    /// <summary>Gets whether every write is forced to the disk before its publish returns (<see cref="ImmuneOptions.SpoolSyncInterval"/> zero).</summary>
    public bool SyncsEveryWrite => _syncEveryWrite;

    /// <summary>
    /// Completes once every record up to <paramref name="sequence"/> is on the disk itself. Concurrent callers share one
    /// fsync (group commit): while one forces the files, the others wait without a thread, and most find their record
    /// covered when it ends. The fsync runs on the thread of the caller that takes the turn, outside every lock of the
    /// service and the pipeline, so summaries and appends never wait for the disk.
    /// </summary>
    /// <returns>False when the disk failed; the spool is then unavailable.</returns>
    public async ValueTask<bool> WaitDurableAsync(long sequence)
    {
        while (_turn.DurableThrough < sequence)
        {
            if (!_turn.TryEnter(out Task released))
            {
                await released.ConfigureAwait(false);
                continue; // covered by the fsync that just ended, or the turn is free to take
            }

            try
            {
                return _turn.DurableThrough >= sequence || ForceToDisk(); // a turn that ended meanwhile may have covered it
            }
            finally
            {
                _turn.Exit();
            }
        }

        return true;
    }

    /// <summary>
    /// Forces what was written to the disk, records that every sequence up to <paramref name="settledThrough"/> is
    /// settled, and deletes the segments (and, once, the files recovery read) that hold nothing unsettled any more.
    /// The fsyncs and deletions run outside the append lock: a publish never waits for them. A sync that forced the
    /// files lets appends try the disk again after it refused one (settled segments may have freed the room).
    /// </summary>
    /// <returns>False when the spool is given up or the disk refused to force the files.</returns>
    public bool Sync(long settledThrough)
    {
        _turn.Enter();
        try
        {
            if (Unavailable)
            {
                return false;
            }

            bool forced = ForceToDisk();
            var settled = new List<SpoolSegment>();
            string[] recovered;
            lock (_gate)
            {
                recovered = [.. _recoveredFiles];
                _recoveredFiles.Clear();
                RotateSettledLocked(settledThrough);
                while (_segments.Count > 1 && (_segments[0].LastSequence is long last && last <= settledThrough || _segments[0].Length == 0))
                {
                    settled.Add(_segments[0]); // gone from the list: no read or append reaches it any more
                    _segments.RemoveAt(0);
                }
            }

            try
            {
                foreach (string file in recovered)
                {
                    File.Delete(file); // their unsettled records were written again, and are on the disk now
                }

                foreach (SpoolSegment segment in settled)
                {
                    segment.Close();
                    File.Delete(SegmentPath(_run, segment.Number));
                }

                SpoolProgress.Write(_directory, _run, settledThrough);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // A full or failing disk: the progress is recorded at a later sync (until then a restart replays more,
                // at-least-once); a file left behind holds only settled records, which recovery skips and deletes.
            }

            if (forced)
            {
                Volatile.Write(ref _writesRefused, false);
            }

            return forced;
        }
        finally
        {
            _turn.Exit();
        }
    }

    /// <summary>
    /// Starts a new segment when the one written to holds only settled records, so that it can be deleted: a spool whose
    /// every envelope was delivered gives its disk space back, even when that space was all one segment (a full disk).
    /// </summary>
    private void RotateSettledLocked(long settledThrough)
    {
        SpoolSegment current = _segments[^1];
        if (current.LastSequence is not long last || last > settledThrough)
        {
            return;
        }

        try
        {
            StartSegment();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // No new file can be made now: the settled segment stays until a later sync.
        }
    }

    /// <summary>Forces every segment written since the last time to the disk; the caller holds the forcing turn.</summary>
    private bool ForceToDisk()
    {
        SpoolSegment[] segments;
        long through;
        lock (_gate)
        {
            if (Unavailable)
            {
                return false; // failed or closed: nothing to force
            }

            segments = [.. _unflushed, _segments[^1]];
            _unflushed.Clear();
            through = _writtenThrough;
        }

        try
        {
            foreach (SpoolSegment segment in segments)
            {
                RandomAccess.FlushToDisk(segment.Handle!); // a handle closes only in a forcing turn, which the caller holds
            }

            _turn.Durable(through);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The disk would not force the files: appends stop until a sync succeeds. What the kernel kept still reads
            // back; a record it lost fails its checksum there, and the spool is given up then.
            Volatile.Write(ref _writesRefused, true);
            return false;
        }
        catch (ObjectDisposedException)
        {
            Volatile.Write(ref _unavailable, true);
            return false;
        }
    }

    public void Dispose()
    {
        _turn.Enter();
        try
        {
            lock (_gate)
            {
                Volatile.Write(ref _unavailable, true); // closed: a late write or read finds it so, not a null handle
                foreach (SpoolSegment segment in _segments)
                {
                    segment.Close();
                }

                _lock.Dispose();
            }
        }
        finally
        {
            _turn.Exit();
        }
    }

    private SpoolSegment StartSegment()
    {
        var segment = new SpoolSegment(_nextSegment, File.OpenHandle(SegmentPath(_run, _nextSegment), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None));
        _nextSegment++;
        _segments.Add(segment);
        return segment;
    }

    /// <summary>A segment's file: <c>&lt;run&gt;-&lt;number&gt;.seg</c>, so that names sort in writing order.</summary>
    private string SegmentPath(long run, long number) => Path.Combine(_directory, $"{run:D12}-{number:D12}{SegmentSuffix}");

    /// <summary>
    /// Reads back up to <paramref name="max"/> records of this run with sequences from <paramref name="fromSequence"/>
    /// on, in order, into <paramref name="into"/>: the backlog the pipeline keeps on disk rather than in memory. The
    /// append lock is held only to see the segments; the disk is read and the records parsed outside it.
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

            _reader.See(_segments);
        }

        try
        {
            _reader.Read(fromSequence, max, into);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ObjectDisposedException or System.Text.Json.JsonException)
        {
            Volatile.Write(ref _unavailable, true);
            return false;
        }
    }

    /// <summary>
    /// Hands every intact record a previous owner left unsettled to <paramref name="replay"/>, oldest first, streaming
    /// one file at a time; damaged files are cut and moved aside. The files replayed from are deleted by the next
    /// <see cref="Sync"/>, once their records are written again. Called once, at start, without the spool's lock:
    /// <paramref name="replay"/> may append.
    /// </summary>
    public SpoolRecovery Recover(Action<EventEnvelope> replay)
    {
        PreviousRun previous = _previous ?? throw new InvalidOperationException("The spool was recovered already.");
        _previous = null;
        return previous.Replay(replay, file =>
        {
            lock (_gate) { _recoveredFiles.Add(file); }
        });
    }
}
