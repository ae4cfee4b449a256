#if NET9_0_OR_GREATER
using Gate = System.Threading.Lock;
#else
using Gate = System.Object;
#endif
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Immune.Delivery;
using Immune.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.TestDoubles;

/// <summary>
/// A <see cref="DeliveryPipeline"/> on its own, driven as the service drives it: an intake filled under the service's
/// lock and announced after it. Disposal stops the pipeline.
/// </summary>
internal sealed class PipelineHarness : IAsyncDisposable
{
    private readonly ImmuneMetrics _metrics;
    private long _nextId;

    public PipelineHarness(IEventStream stream, FakeTimeProvider time, Action<ImmuneOptions>? configure = null, ILogger? logger = null, IMeterFactory? meters = null)
    {
        var options = new ImmuneOptions();
        configure?.Invoke(options);
        Time = time;
        _metrics = new ImmuneMetrics(meters, () => 0, () => 0);
        var reporter = new DeliveryReporter(logger ?? NullLogger.Instance, _metrics, time, TimeSpan.FromMinutes(1));
        Pipeline = new DeliveryPipeline(stream, DeliverySettings.Of(options), "0123456789abcdef", time, reporter, static () => 0.5, serviceGate: ServiceGate);
    }

    /// <summary>A step run under the service's lock with the caller's intake.</summary>
    public delegate void Step(ref DeliveryIntake intake);

    /// <summary>Gets the service's lock, as the pipeline knows it.</summary>
    public Gate ServiceGate { get; } = new();

    public FakeTimeProvider Time { get; }

    public DeliveryPipeline Pipeline { get; }

    /// <summary>Queues the envelopes of one event as the service records it: its own, and <c>immune.critical_event</c> when CRITICAL.</summary>
    public static void Enqueue(ref DeliveryIntake intake, ImmuneEvent e)
        => intake.Enqueue(EnvelopeKind.EventPublished, e, e.CreatedAt, default, ActivityTraceId.CreateRandom(), e.Severity == ImmuneSeverity.Critical);

    /// <summary>Gets an event with the next id, recorded now.</summary>
    public ImmuneEvent Event(ImmuneSeverity severity, string message = "m")
        => new(++_nextId, Time.GetUtcNow(), severity, ImmuneEventType.ErrorSpike, message);

    /// <summary>Runs <paramref name="step"/> under the service's lock and announces its intake after; returns the intake, announced.</summary>
    public DeliveryIntake Queue(Step step)
    {
        DeliveryIntake intake = new(Pipeline);
        try
        {
            lock (ServiceGate)
            {
                step(ref intake);
            }
        }
        finally
        {
            intake.Dispose();
        }

        return intake;
    }

    /// <summary>Publishes one event as the service does.</summary>
    public DeliveryIntake Publish(ImmuneSeverity severity, string message = "m")
    {
        ImmuneEvent e = Event(severity, message);
        return Queue((ref DeliveryIntake intake) => Enqueue(ref intake, e));
    }

    public async ValueTask DisposeAsync()
    {
        await Pipeline.StopAsync().WaitAsync(Events.HangGuard);
        _metrics.Dispose();
    }
}
