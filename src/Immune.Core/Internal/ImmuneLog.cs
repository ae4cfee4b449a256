using Microsoft.Extensions.Logging;

namespace Immune.Internal;

/// <summary>
/// Every log entry of Immune, in one block of event ids (category <c>Immune.ImmuneService</c>). Their ids, names and
/// levels are part of the documented contract (EVENTS.md, "Log events"): add new ones at the end, never renumber.
/// </summary>
internal static partial class ImmuneLog
{
    [LoggerMessage(EventId = 1, EventName = "NoEventStream", Level = LogLevel.Warning,
        Message = "No IEventStream is configured: immune events are recorded and summarized but not published.")]
    public static partial void NoEventStream(ILogger logger);

    [LoggerMessage(EventId = 2, EventName = "EnvelopeFailed", Level = LogLevel.Warning,
        Message = "Envelope {EnvelopeId} ({EnvelopeType}, sequence {Sequence}) of immune event {EventId} failed after {Attempts} attempt(s): {Reason}. {Suppressed} other failure(s) since the last report.")]
    public static partial void EnvelopeFailed(ILogger logger, string? envelopeId, string envelopeType, long eventId, long sequence, int attempts, string reason, long suppressed, Exception? exception);

    [LoggerMessage(EventId = 3, EventName = "EnvelopeDropped", Level = LogLevel.Warning,
        Message = "Envelope sequence {Sequence} ({EnvelopeType}) of immune event {EventId} was dropped: {Reason}. {Suppressed} other drop(s) since the last report.")]
    public static partial void EnvelopeDropped(ILogger logger, long sequence, string envelopeType, long eventId, string reason, long suppressed);

    [LoggerMessage(EventId = 4, EventName = "DeliveryStopped", Level = LogLevel.Information,
        Message = "Immune delivery stopped: {Queued} envelope(s) queued, {Delivered} delivered, {Failed} failed, {Dropped} dropped.")]
    public static partial void DeliveryStopped(ILogger logger, long queued, long delivered, long failed, long dropped);

    [LoggerMessage(EventId = 5, EventName = "DeliveryLoopFault", Level = LogLevel.Error,
        Message = "The immune delivery loop caught an unexpected exception; the envelopes in hand count as failed and delivery continues.")]
    public static partial void DeliveryLoopFault(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6, EventName = "AttemptFailed", Level = LogLevel.Debug,
        Message = "Attempt {Attempt} of {Attempts} to publish {Count} envelope(s) from sequence {Sequence} ({EnvelopeType}) failed: {Reason}; retrying in {Delay}.")]
    public static partial void AttemptFailed(ILogger logger, int attempt, int attempts, int count, long sequence, string envelopeType, string reason, TimeSpan delay, Exception? exception);

    [LoggerMessage(EventId = 7, EventName = "SpoolDamaged", Level = LogLevel.Warning,
        Message = "The spool in {Directory} held {Regions} damaged region(s) (a torn tail, zeroes or a corrupt record); they were cut off, never replayed, and the files moved aside: {Files}.")]
    public static partial void SpoolDamaged(ILogger logger, string directory, int regions, string files);

    [LoggerMessage(EventId = 8, EventName = "SpoolUnavailable", Level = LogLevel.Error,
        Message = "The spool in {Directory} failed (disk full, permission lost or removed); envelopes it cannot write are kept in memory, what is on the disk is still delivered, and it tries the disk again at each sync.")]
    public static partial void SpoolUnavailable(ILogger logger, string directory);

    [LoggerMessage(EventId = 9, EventName = "StreamFailing", Level = LogLevel.Warning,
        Message = "The event stream started failing ({Reason}); envelopes are held in order and retried until it recovers or their delivery timeout runs out.")]
    public static partial void StreamFailing(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = 10, EventName = "StreamRecovered", Level = LogLevel.Information,
        Message = "The event stream recovered after {Duration} and {FailedAttempts} failed attempt(s); {Waiting} envelope(s) were waiting.")]
    public static partial void StreamRecovered(ILogger logger, TimeSpan duration, long failedAttempts, long waiting);

    [LoggerMessage(EventId = 11, EventName = "FeedFailing", Level = LogLevel.Warning,
        Message = "The feed {Feed} failed {Failures} time(s) in a row ({Error}); it goes on, next in {Delay}.")]
    public static partial void FeedFailing(ILogger logger, string feed, long failures, string error, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 12, EventName = "FeedRecovered", Level = LogLevel.Information,
        Message = "The feed {Feed} reads again after {Duration} and {Failures} failed attempt(s).")]
    public static partial void FeedRecovered(ILogger logger, string feed, TimeSpan duration, long failures);

    [LoggerMessage(EventId = 13, EventName = "PageFailed", Level = LogLevel.Warning,
        Message = "The pager did not take the {Action} of {DedupKey} ({Error}); it stays pending and is sent when the pager answers. {Suppressed} other failure(s) since the last report.")]
    public static partial void PageFailed(ILogger logger, string action, string dedupKey, string error, long suppressed, Exception exception);

    [LoggerMessage(EventId = 14, EventName = "PageRefused", Level = LogLevel.Error,
        Message = "The pager refused the {Action} of {DedupKey}: {Reason}. It is not recorded as sent and not retried.")]
    public static partial void PageRefused(ILogger logger, string action, string dedupKey, string reason);

    [LoggerMessage(EventId = 15, EventName = "EntryDeadLettered", Level = LogLevel.Error,
        Message = "The entry {Entry} of {Stream} is no envelope and was moved to {DeadLetter}: {Reason}.")]
    public static partial void EntryDeadLettered(ILogger logger, string entry, string stream, string deadLetter, string reason);

    [LoggerMessage(EventId = 16, EventName = "EntriesLost", Level = LogLevel.Error,
        Message = "The feed {Feed} found {Count} entr(ies) gone from {Stream} before it read them (trimmed or discarded by the broker).")]
    public static partial void EntriesLost(ILogger logger, string feed, long count, string stream);
}
