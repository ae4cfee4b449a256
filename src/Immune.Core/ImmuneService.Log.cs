using Microsoft.Extensions.Logging;

namespace Immune;

public sealed partial class ImmuneService
{
    /// <summary>Log entries of the service; their ids and names are part of the documented contract (EVENTS.md).</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "NoEventStream", Level = LogLevel.Warning,
            Message = "No IEventStream is configured: immune events are recorded and summarized but not published.")]
        public static partial void NoEventStream(ILogger logger);

        [LoggerMessage(EventId = 2, EventName = "EnvelopeFailed", Level = LogLevel.Warning,
            Message = "Envelope {EnvelopeId} ({EnvelopeType}) of immune event {EventId} failed after {Attempts} attempt(s): {Reason}. {Suppressed} other failure(s) since the last report.")]
        public static partial void EnvelopeFailed(ILogger logger, string? envelopeId, string? envelopeType, long eventId, int attempts, string reason, long suppressed, Exception? exception);

        [LoggerMessage(EventId = 3, EventName = "EnvelopeDropped", Level = LogLevel.Warning,
            Message = "Envelope {EnvelopeId} ({EnvelopeType}) of immune event {EventId} was dropped: {Reason}. {Suppressed} other drop(s) since the last report.")]
        public static partial void EnvelopeDropped(ILogger logger, string? envelopeId, string envelopeType, long eventId, string reason, long suppressed);

        [LoggerMessage(EventId = 4, EventName = "DeliveryStopped", Level = LogLevel.Information,
            Message = "Immune delivery stopped: {Queued} envelope(s) queued, {Delivered} delivered, {Failed} failed, {Dropped} dropped.")]
        public static partial void DeliveryStopped(ILogger logger, long queued, long delivered, long failed, long dropped);

        [LoggerMessage(EventId = 5, EventName = "DeliveryLoopFault", Level = LogLevel.Error,
            Message = "The immune delivery loop caught an unexpected exception; the envelope counts as failed and delivery continues.")]
        public static partial void DeliveryLoopFault(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 6, EventName = "AttemptFailed", Level = LogLevel.Debug,
            Message = "Attempt {Attempt} of {Attempts} to publish envelope {EnvelopeId} ({EnvelopeType}) failed: {Reason}; retrying in {Delay}.")]
        public static partial void AttemptFailed(ILogger logger, int attempt, int attempts, string envelopeId, string envelopeType, string reason, TimeSpan delay, Exception? exception);
    }
}
