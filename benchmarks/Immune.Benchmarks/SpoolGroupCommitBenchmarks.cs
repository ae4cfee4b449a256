using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// <c>SpoolSyncInterval</c> zero (every publish waits until its envelope is on the disk itself) with one publisher and
/// with eight publishing at once: concurrent publishers share one fsync (group commit), so the eight get through more
/// publishes per second than one. 800 publishes per invocation, on dedicated threads; per publish.
/// </summary>
public class SpoolGroupCommitBenchmarks
{
    private const int Publishes = 800;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "immune-group-commit-bench", Guid.NewGuid().ToString("N"));
    private ImmuneService _service = null!;

    [Params(1, 8)]
    public int Publishers { get; set; }

    [GlobalSetup]
    public void Setup() => _service = new ImmuneService(new NoopBatchStream(), new ImmuneOptions
    {
        SpoolDirectory = Path.Combine(_root, "spool"),
        SpoolSyncInterval = TimeSpan.Zero,
        SpoolCapacityBytes = 1L << 30,
    });

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _service.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Publishes, Description = "PublishAsync, SpoolSyncInterval zero")]
    public void Publish()
    {
        Thread[] threads = [.. Enumerable.Range(0, Publishers).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < Publishes / Publishers; i++)
            {
                _service.PublishAsync(Info).AsTask().GetAwaiter().GetResult();
            }
        }))];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
    }
}
