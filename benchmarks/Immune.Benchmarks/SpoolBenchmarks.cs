using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// The durable spool on the local disk beside no spool, in one run: the caller's cost of one INFO publish (background
/// delivery into a no-op stream), and end to end, 10,000 publishes delivered and flushed, per event. The sync interval
/// decides how often the spool forces its file to the disk; zero forces every write.
/// </summary>
[MemoryDiagnoser]
public class SpoolBenchmarks
{
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "immune-spool-bench", Guid.NewGuid().ToString("N"));
    private ImmuneService _service = null!;

    /// <summary>off, or the sync interval in milliseconds.</summary>
    [Params("off", "1000", "0")]
    public string Spool { get; set; } = "off";

    [GlobalSetup]
    public void Setup() => _service = Create();

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _service.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Description = "PublishAsync background INFO")]
    public ValueTask<long> Publish() => _service.PublishAsync(Info);

    [Benchmark(Description = "10,000 publishes, delivered and flushed", OperationsPerInvoke = 10_000)]
    public async Task EndToEnd()
    {
        for (int i = 0; i < 10_000; i++)
        {
            await _service.PublishAsync(Info);
        }

        await _service.FlushAsync();
    }

    private ImmuneService Create()
    {
        Directory.CreateDirectory(_root);
        var options = new ImmuneOptions { SpoolCapacityBytes = 4L << 30 };
        if (Spool != "off")
        {
            options.SpoolDirectory = Path.Combine(_root, "spool");
            options.SpoolSyncInterval = TimeSpan.FromMilliseconds(int.Parse(Spool, System.Globalization.CultureInfo.InvariantCulture));
        }

        return new ImmuneService(new NoopStream(), options);
    }
}
