using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// <c>SpoolSyncInterval</c> zero (every publish completes once its envelope is on the disk itself) with one publisher
/// and with eight publishing at once on threads of their own, and with 64 asynchronous publishers on the thread pool:
/// concurrent publishers share one fsync (group commit), so more publishers get through more publishes per second.
/// 1,024 publishes per invocation; per publish.
/// </summary>
public class SpoolGroupCommitBenchmarks
{
    private const int Publishes = 1_024;
    private const int AsyncPublishers = 64;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "immune-group-commit-bench", Guid.NewGuid().ToString("N"));
    private ImmuneService _service = null!;

    /// <summary>Who publishes: one thread, eight threads of their own (blocking on each publish), or 64 tasks on the pool (awaiting).</summary>
    [Params("1 thread", "8 threads", "64 tasks")]
    public string Publishers { get; set; } = "1 thread";

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
    public Task Publish() => Publishers switch
    {
        "1 thread" => OnThreads(1),
        "8 threads" => OnThreads(8),
        _ => FromTasks(AsyncPublishers),
    };

    private Task OnThreads(int count)
    {
        Thread[] threads = [.. Enumerable.Range(0, count).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < Publishes / count; i++)
            {
                _service.PublishAsync(Info).AsTask().GetAwaiter().GetResult();
            }
        }))];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
        return Task.CompletedTask;
    }

    private Task FromTasks(int count)
        => Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < Publishes / count; i++)
            {
                await _service.PublishAsync(Info);
            }
        })));
}
