using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Immune.Benchmarks;

/// <summary>A stream that accepts everything at once: the benchmarks measure Immune, not a transport.</summary>
public sealed class NoopStream : IEventStream
{
    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

/// <summary>A stream that accepts everything at once and counts it, so that a benchmark can wait for delivery without allocating.</summary>
public sealed class CountingStream : IEventStream
{
    private long _accepted;

    public long Accepted => Volatile.Read(ref _accepted);

    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _accepted);
        return ValueTask.CompletedTask;
    }

    /// <summary>Spins (allocating nothing) until <paramref name="count"/> envelopes were accepted in all.</summary>
    public void WaitFor(long count)
    {
        var spin = new SpinWait();
        while (Accepted < count)
        {
            spin.SpinOnce(sleep1Threshold: -1); // never sleep a millisecond: that would be the measure
        }
    }
}

/// <summary>A batch stream that accepts everything at once.</summary>
public sealed class NoopBatchStream : IBatchEventStream
{
    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

/// <summary>
/// A batch stream whose first call is held until <see cref="Release"/>, then passes everything to <c>inner</c>: an outage
/// that ends, with a backlog queued behind the held call.
/// </summary>
public sealed class HeldBatchStream(IBatchEventStream inner) : IBatchEventStream
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes once the first call is held.</summary>
    public Task Held => _held.Task;

    public void Release() => _released.TrySetResult();

    /// <summary>Releases the held call and waits until <paramref name="service"/> delivered all <paramref name="expected"/> envelopes.</summary>
    public async Task DrainAsync(ImmuneService service, long expected)
    {
        Release();
        await service.FlushAsync();
        if (service.GetDeliveryStats().Delivered != expected)
        {
            throw new InvalidOperationException("Not every envelope was delivered: " + service.GetDeliveryStats());
        }
    }

    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => inner.PublishAsync(envelope, cancellationToken);

    public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        if (_held.TrySetResult())
        {
            await _released.Task.WaitAsync(cancellationToken);
        }

        await inner.PublishBatchAsync(envelopes, cancellationToken);
    }
}

/// <summary>The floor: a bounded channel write of a preallocated item, with a reader draining it.</summary>
public sealed class ChannelFloor : IAsyncDisposable
{
    private readonly Channel<NewImmuneEvent> _channel = Channel.CreateBounded<NewImmuneEvent>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly Task _reader;

    public ChannelFloor() => _reader = Task.Run(async () =>
    {
        await foreach (NewImmuneEvent _ in _channel.Reader.ReadAllAsync())
        {
        }
    });

    public bool Write(NewImmuneEvent item) => _channel.Writer.TryWrite(item);

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.Complete();
        await _reader;
    }
}

/// <summary>
/// The peer: OpenTelemetry .NET logging of the same fields through [LoggerMessage] into a batch processor whose
/// exporter only counts. The processor exports on its own once <c>maxExportBatchSize</c> records wait (512, as
/// OpenTelemetry ships it, unless a benchmark asks for another).
/// </summary>
public sealed partial class OpenTelemetryPeer : IDisposable
{
    private readonly CountingExporter _exporter = new();
    private readonly ILoggerFactory _factory;
    private readonly ILogger _logger;
    private long _recorded;

    public OpenTelemetryPeer(int exportBatchSize = 512)
    {
        var processor = new BatchLogRecordExportProcessor(_exporter, maxQueueSize: Math.Max(2048, exportBatchSize), maxExportBatchSize: exportBatchSize);
        _factory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Information)
            .AddOpenTelemetry(options => options.AddProcessor(processor)));
        _logger = _factory.CreateLogger("Immune.Peer");
    }

    public void Record(NewImmuneEvent e)
    {
        ImmuneEventLogged(_logger, e.Severity, e.Type, e.Message, e.AgentId, e.Module);
        _recorded++;
    }

    /// <summary>
    /// Waits, spinning, until everything recorded so far is exported; call it after a multiple of the export batch
    /// size. Not <c>ForceFlush</c>: in OpenTelemetry 1.20 a flush that comes while the exporter thread is between waits
    /// is seen only at that thread's next 1-second poll, which made a batch of one take a second now and then.
    /// </summary>
    public void WaitExported()
    {
        var spin = default(SpinWait);
        while (Volatile.Read(ref _exporter.Exported) < _recorded)
        {
            spin.SpinOnce();
        }
    }

    public void Dispose() => _factory.Dispose();

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Immune event {Severity} {Type}: {Message} (agent {AgentId}, module {Module})")]
    private static partial void ImmuneEventLogged(ILogger logger, ImmuneSeverity severity, ImmuneEventType type, string message, string? agentId, string? module);

    private sealed class CountingExporter : BaseExporter<LogRecord>
    {
        public long Exported;

        public override ExportResult Export(in Batch<LogRecord> batch)
        {
            Interlocked.Add(ref Exported, batch.Count);
            return ExportResult.Success;
        }
    }
}

/// <summary>
/// The original module ported as written: a list under a lock (unbounded), dictionaries for payload and envelope,
/// and the stream awaited inline by the caller.
/// </summary>
public sealed class NaivePort(Func<Dictionary<string, object?>, Task> publish)
{
    private readonly List<Dictionary<string, object?>> _events = [];
    private readonly object _gate = new();
    private long _nextId;

    public async Task<long> PublishAsync(NewImmuneEvent e)
    {
        var record = new Dictionary<string, object?>
        {
            ["id"] = Interlocked.Increment(ref _nextId),
            ["severity"] = e.Severity.ToString().ToUpperInvariant(),
            ["type"] = e.Type.ToString(),
            ["message"] = e.Message,
            ["agent_id"] = e.AgentId,
            ["module"] = e.Module,
            ["meta"] = e.Meta,
            ["created_at"] = DateTimeOffset.UtcNow,
        };
        lock (_gate)
        {
            _events.Add(record);
            if (_events.Count > 100_000)
            {
                _events.Clear(); // keep the benchmark's memory in check; the original never trimmed
            }
        }

        var payload = new Dictionary<string, object?>(record) { ["published_at"] = record["created_at"] };
        var envelope = new Dictionary<string, object?>
        {
            ["id"] = $"evt_immune_{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}_{Guid.NewGuid():N}",
            ["type"] = "immune.event_published",
            ["source"] = "immune_service",
            ["target"] = null,
            ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
            ["payload"] = payload,
            ["meta"] = new Dictionary<string, object?> { ["correlation_id"] = Guid.NewGuid().ToString("N"), ["version"] = "1.0" },
        };
        await publish(envelope);
        return (long)record["id"]!;
    }
}
