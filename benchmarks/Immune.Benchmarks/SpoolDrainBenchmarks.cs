using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// A backlog drained from the spool: 10,000 envelopes queued behind a held call while the in-memory queue holds only
/// 100 (so 9,900 wait on disk), then the call is released and the backlog drains into a no-op batch stream, read back
/// from the disk a batch at a time. Beside it, the same backlog held in memory (a queue of 10,000, no spool). From the
/// release to the last delivery, per envelope.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)] // every drain needs a backlog built before it
public class SpoolDrainBenchmarks
{
    private const int Backlog = 10_000;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "immune-drain-bench", Guid.NewGuid().ToString("N"));
    private ImmuneService? _service;
    private HeldBatchStream? _stream;

    [IterationSetup(Target = nameof(FromMemory))]
    public void BacklogInMemory() => Build(spool: false);

    [IterationSetup(Target = nameof(FromDisk))]
    public void BacklogOnDisk() => Build(spool: true);

    [IterationCleanup]
    public void Stop()
    {
        _service!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Backlog, Description = "backlog in memory (no spool)")]
    public Task FromMemory() => DrainAsync();

    [Benchmark(OperationsPerInvoke = Backlog, Description = "backlog on disk (spool, QueueCapacity 100)")]
    public Task FromDisk() => DrainAsync();

    private Task DrainAsync() => _stream!.DrainAsync(_service!, Backlog + 1);

    private void Build(bool spool)
    {
        _stream = new HeldBatchStream(new NoopBatchStream());
        var options = spool
            ? new ImmuneOptions { QueueCapacity = 100, SpoolDirectory = Path.Combine(_root, "spool"), SpoolCapacityBytes = 1L << 30 }
            : new ImmuneOptions { QueueCapacity = Backlog };
        _service = new ImmuneService(_stream, options);
        _service.PublishAsync(Info).AsTask().GetAwaiter().GetResult(); // the head: its call is held
        _stream.Held.GetAwaiter().GetResult();
        for (int i = 0; i < Backlog; i++)
        {
            _service.PublishAsync(Info).AsTask().GetAwaiter().GetResult();
        }
    }
}
