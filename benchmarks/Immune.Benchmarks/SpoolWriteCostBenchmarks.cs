using System.IO.MemoryMappedFiles;
using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;

namespace Immune.Benchmarks;

/// <summary>
/// What one spooled record costs, piece by piece, beside an unspooled and a spooled publish in the same run: the envelope's JSON, a
/// <c>pwrite</c> of a record that size into the page cache (what the spool does today, one system call a record), and a
/// copy of it into a memory-mapped segment (no system call: what a mapped spool would do), and a spool whose memory queue
/// is large enough that the loop never reads an envelope back from the disk. Together they show how much of
/// the spooled caller's cost a mapped segment or a compact binary record could take away.
/// </summary>
[MemoryDiagnoser]
public class SpoolWriteCostBenchmarks
{
    private const long FileSize = 256L << 20; // written round and round: the page cache, never the disk's speed
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "immune-spool-cost", Guid.NewGuid().ToString("N"));
    private ImmuneService _service = null!;
    private ImmuneService _spooled = null!;
    private ImmuneService _roomy = null!;
    private EventEnvelope _envelope = null!;
    private byte[] _record = null!;
    private SafeFileHandle _file = null!;
    private MemoryMappedFile _mapped = null!;
    private MemoryMappedViewAccessor _view = null!;
    private long _offset;
    private SafeFileHandle _appended = null!;
    private long _appendedLength;

    [GlobalSetup]
    public async Task Setup()
    {
        Directory.CreateDirectory(_root);
        var stream = new InMemoryEventStream();
        await using (var recorder = new ImmuneService(stream))
        {
            await recorder.PublishAsync(Info);
            await recorder.FlushAsync();
        }

        _envelope = stream.Envelopes[0];
        _record = new byte[16 + ImmuneJson.SerializeToUtf8Bytes(_envelope).Length];
        _service = new ImmuneService(new NoopStream());
        _spooled = new ImmuneService(new NoopStream(), new ImmuneOptions { SpoolDirectory = Path.Combine(_root, "spool"), SpoolCapacityBytes = 4L << 30 }); // SpoolSyncInterval 1 s
        _roomy = new ImmuneService(new NoopStream(), new ImmuneOptions { SpoolDirectory = Path.Combine(_root, "roomy"), SpoolCapacityBytes = 4L << 30, QueueCapacity = 1_000_000 });
        _file = File.OpenHandle(Path.Combine(_root, "pwrite.seg"), FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.None, FileSize);
        _appended = File.OpenHandle(Path.Combine(_root, "appended.seg"), FileMode.Create, FileAccess.ReadWrite);
        _mapped = MemoryMappedFile.CreateFromFile(Path.Combine(_root, "mapped.seg"), FileMode.Create, null, FileSize, MemoryMappedFileAccess.ReadWrite);
        _view = _mapped.CreateViewAccessor(0, FileSize);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _service.DisposeAsync();
        await _spooled.DisposeAsync();
        await _roomy.DisposeAsync();
        _view.Dispose();
        _mapped.Dispose();
        _file.Dispose();
        _appended.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "unspooled PublishAsync background INFO")]
    public ValueTask<long> Publish() => _service.PublishAsync(Info);

    [Benchmark(Description = "spooled PublishAsync background INFO")]
    public ValueTask<long> PublishSpooled() => _spooled.PublishAsync(Info);

    [Benchmark(Description = "spooled, QueueCapacity 1,000,000 (none read back from the disk)")]
    public ValueTask<long> PublishSpooledRoomy() => _roomy.PublishAsync(Info);

    [Benchmark(Description = "the INFO envelope's JSON")]
    public byte[] Json() => ImmuneJson.SerializeToUtf8Bytes(_envelope);

    [Benchmark(Description = "pwrite of one record (page cache)")]
    public void Pwrite() => RandomAccess.Write(_file, _record, Next());

    [Benchmark(Description = "pwrite of one record at the end (the file grows, as a segment does)")]
    public void PwriteAppending()
    {
        if (_appendedLength + _record.Length > FileSize)
        {
            RandomAccess.SetLength(_appended, 0); // as a new segment: empty again
            _appendedLength = 0;
        }

        RandomAccess.Write(_appended, _record, _appendedLength);
        _appendedLength += _record.Length;
    }

    [Benchmark(Description = "copy of one record into a mapped segment")]
    public void MappedCopy() => _view.WriteArray(Next(), _record, 0, _record.Length);

    private long Next()
    {
        long at = _offset;
        _offset = at + _record.Length + _record.Length > FileSize ? 0 : at + _record.Length;
        return at;
    }
}
