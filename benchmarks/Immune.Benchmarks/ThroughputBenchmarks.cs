using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>End to end: events recorded, delivered to the stream and flushed, by 1 or 2 publishers. Reported per event.</summary>
[MemoryDiagnoser]
public class ThroughputBenchmarks
{
    private const int Events = 200_000;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%");

    [Params(1, 2)]
    public int Publishers { get; set; }

    /// <summary>A plain no-op stream (one envelope per call) or a batch one (up to MaxBatchSize per call).</summary>
    [Params(false, true)]
    public bool Batches { get; set; }

    [Benchmark(OperationsPerInvoke = Events, Description = "Immune publish -> stream, flushed")]
    public async Task EndToEnd()
    {
        await using var service = new ImmuneService(Batches ? new NoopBatchStream() : new NoopStream(), new ImmuneOptions { QueueCapacity = Events, RetentionCapacity = 10_000 });
        int each = Events / Publishers;
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < each; i++)
            {
                await service.PublishAsync(Info);
            }
        })));
        await service.FlushAsync();
        if (service.GetDeliveryStats().Delivered != Events)
        {
            throw new InvalidOperationException("Not every envelope was delivered: " + service.GetDeliveryStats());
        }
    }

    [Benchmark(OperationsPerInvoke = Events, Baseline = true, Description = "naive port, awaited publish")]
    public async Task NaiveEndToEnd()
    {
        var naive = new NaivePort(static _ => Task.CompletedTask);
        int each = Events / Publishers;
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < each; i++)
            {
                await naive.PublishAsync(Info);
            }
        })));
    }
}
