using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>
/// Bytes per retained event and per queued envelope: the allocated bytes of filling a fresh service, divided by the
/// count (the store's and queue's own arrays included, amortized). Read the "Allocated" column.
/// </summary>
[MemoryDiagnoser]
public class MemoryBenchmarks
{
    private const int Count = 100_000;
    private static readonly NewImmuneEvent Info = new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "5xx rate above 2%") { AgentId = "agent-7", Module = "api" };

    [Benchmark(OperationsPerInvoke = Count, Description = "bytes per retained event (no stream)")]
    public async Task RetainedEvent()
    {
        await using var service = new ImmuneService(options: new ImmuneOptions { RetentionCapacity = Count });
        for (int i = 0; i < Count; i++)
        {
            await service.PublishAsync(Info);
        }
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "bytes per queued envelope (stream blocked), event included")]
    public async Task QueuedEnvelope()
    {
        var gate = new TaskCompletionSource();
        await using var service = new ImmuneService(new BlockedStream(gate.Task), new ImmuneOptions { RetentionCapacity = Count, QueueCapacity = Count, ShutdownTimeout = TimeSpan.Zero });
        for (int i = 0; i < Count; i++)
        {
            await service.PublishAsync(Info);
        }
    }

    private sealed class BlockedStream(Task gate) : IEventStream
    {
        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => new(gate.WaitAsync(cancellationToken));
    }
}
