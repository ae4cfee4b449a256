using Immune.Internal;
using Microsoft.Extensions.Logging;

namespace Immune.Delivery;

/// <summary>
/// Metrics and rate-limited logs of the delivery pipeline. Every member survives whatever the telemetry does: a logger
/// provider that throws (a full disk), an exception whose <c>Message</c> or <c>ToString</c> throws while it is
/// formatted, a metrics listener that throws. A report that fails is lost; delivery and the caller are not.
/// </summary>
internal sealed partial class DeliveryReporter(ILogger logger, ImmuneMetrics metrics, TimeProvider timeProvider, TimeSpan logInterval)
{
    private readonly LogLimiter _failureLog = new(timeProvider, logInterval);
    private readonly LogLimiter _dropLog = new(timeProvider, logInterval);

    /// <summary>Counts envelopes handed to the pipeline by one publish or change.</summary>
    public void Queued(int count)
    {
        try
        {
            metrics.Queued(count);
        }
        catch (Exception)
        {
            // A metrics listener that throws must not fail a publish.
        }
    }

    /// <summary>Reports how one envelope, or every envelope of one batch call, ended.</summary>
    public void Settled(in PendingEnvelope first, int count, EventEnvelope? envelope, in Settlement delivery)
    {
        try
        {
            switch (delivery.Outcome)
            {
                case Outcome.Delivered:
                    metrics.Delivered(count, delivery.Duration);
                    break;
                case Outcome.FailedTimeout or Outcome.FailedStreamError:
                    string reason = Reasons.Of(delivery.Outcome);
                    metrics.Failed(reason, count);
                    if (_failureLog.TryAcquire(count, out long suppressed))
                    {
                        Log.EnvelopeFailed(logger, envelope?.Id, first.Type, first.Event.Id, first.Sequence, delivery.Attempts, reason, suppressed, delivery.Exception);
                    }

                    break;
                default:
                    Dropped(first, count, Reasons.Shutdown);
                    break;
            }
        }
        catch (Exception)
        {
            // The telemetry failed; the envelope is settled and counted in the stats all the same.
        }
    }

    /// <summary>Reports envelopes given up without a final attempt; <paramref name="first"/> is the oldest of them.</summary>
    public void Dropped(in PendingEnvelope first, long count, string reason)
    {
        if (count == 0)
        {
            return;
        }

        try
        {
            metrics.Dropped(reason, count);
            if (_dropLog.TryAcquire(count, out long suppressed))
            {
                // Only what existed is logged: an envelope shed from the queue never got an id.
                Log.EnvelopeDropped(logger, first.Sequence, first.Type, first.Event.Id, reason, suppressed);
            }
        }
        catch (Exception)
        {
            // As above: a drop the telemetry cannot report is still counted in the stats.
        }
    }

    public void AttemptFailed(in PendingEnvelope first, int count, int attempt, int attempts, Outcome outcome, TimeSpan delay, Exception? exception)
    {
        try
        {
            Log.AttemptFailed(logger, attempt, attempts, count, first.Sequence, first.Type, Reasons.Of(outcome), delay, exception);
        }
        catch (Exception)
        {
            // A retry needs no log to happen.
        }
    }

    /// <summary>Reports that the stream started failing: the first failed attempt after a success (or since the start).</summary>
    public void StreamFailing(string reason, Exception? exception)
    {
        try
        {
            Log.StreamFailing(logger, reason, exception);
        }
        catch (Exception)
        {
            // FailingSince in the stats says it all the same.
        }
    }

    /// <summary>Reports that the stream accepted envelopes again after a run of failed attempts.</summary>
    public void StreamRecovered(TimeSpan duration, long failedAttempts, long waiting)
    {
        try
        {
            Log.StreamRecovered(logger, duration, failedAttempts, waiting);
        }
        catch (Exception)
        {
            // Delivery goes on whatever the logger does.
        }
    }

    public void LoopFault(Exception exception)
    {
        try
        {
            Log.DeliveryLoopFault(logger, exception);
        }
        catch (Exception)
        {
            // Nothing left to tell it to.
        }
    }

    /// <summary>Reports what the spool found at start: envelopes queued again, damage cut off and files moved aside.</summary>
    public void Recovered(string directory, long replayed, int damagedRegions, IReadOnlyList<string> movedAside)
    {
        try
        {
            metrics.Replayed(replayed);
            metrics.SpoolDamaged(damagedRegions);
            if (damagedRegions > 0)
            {
                Log.SpoolDamaged(logger, directory, damagedRegions, string.Join(", ", movedAside));
            }
        }
        catch (Exception)
        {
            // The damage is counted by recovery and cut off; only the report is lost.
        }
    }

    /// <summary>Reports that the spool gave up after a disk fault; envelopes from now on stay in memory only.</summary>
    public void SpoolUnavailable(string directory)
    {
        try
        {
            Log.SpoolUnavailable(logger, directory);
        }
        catch (Exception)
        {
            // Delivery goes on from memory whatever the logger does.
        }
    }

    public void Stopped(ImmuneDeliveryStats stats)
    {
        try
        {
            Log.DeliveryStopped(logger, stats.Queued, stats.Delivered, stats.Failed, stats.Dropped);
        }
        catch (Exception)
        {
            // Disposal completes whatever the logger does.
        }
    }

    /// <summary>Log entries of the delivery pipeline; their ids and names are part of the documented contract (EVENTS.md).</summary>
    private static partial class Log
    {
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
            Message = "The spool in {Directory} failed (disk full, permission lost or removed); envelopes from now on are kept in memory only.")]
        public static partial void SpoolUnavailable(ILogger logger, string directory);

        [LoggerMessage(EventId = 9, EventName = "StreamFailing", Level = LogLevel.Warning,
            Message = "The event stream started failing ({Reason}); envelopes are held in order and retried until it recovers or their delivery timeout runs out.")]
        public static partial void StreamFailing(ILogger logger, string reason, Exception? exception);

        [LoggerMessage(EventId = 10, EventName = "StreamRecovered", Level = LogLevel.Information,
            Message = "The event stream recovered after {Duration} and {FailedAttempts} failed attempt(s); {Waiting} envelope(s) were waiting.")]
        public static partial void StreamRecovered(ILogger logger, TimeSpan duration, long failedAttempts, long waiting);
    }
}
