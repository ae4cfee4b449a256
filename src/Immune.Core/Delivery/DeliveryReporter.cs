using Immune.Internal;
using Microsoft.Extensions.Logging;

namespace Immune.Delivery;

/// <summary>
/// Metrics and rate-limited logs of the delivery pipeline. Every member survives whatever the telemetry does (see
/// <see cref="Quietly{TState}"/>): a report that fails is lost; delivery and the caller are not.
/// </summary>
internal sealed class DeliveryReporter(ILogger logger, ImmuneMetrics metrics, TimeProvider timeProvider, TimeSpan logInterval)
{
    private readonly LogLimiter _failureLog = new(timeProvider, logInterval);
    private readonly LogLimiter _dropLog = new(timeProvider, logInterval);

    /// <summary>Counts envelopes handed to the pipeline by one publish or change.</summary>
    public void Queued(int count) => Quietly((metrics, count), static s => s.metrics.Queued(s.count));

    /// <summary>Reports how one envelope, or every envelope of one batch call, ended.</summary>
    public void Settled(in PendingEnvelope first, int count, EventEnvelope? envelope, in Settlement delivery)
        => Quietly((this, first, count, envelope, delivery), static s => s.Item1.SettledCore(s.first, s.count, s.envelope, s.delivery));

    /// <summary>Reports envelopes given up without a final attempt; <paramref name="first"/> is the oldest of them.</summary>
    public void Dropped(in PendingEnvelope first, long count, string reason)
    {
        if (count > 0)
        {
            Quietly((this, first, count, reason), static s => s.Item1.DroppedCore(s.first, s.count, s.reason));
        }
    }

    public void AttemptFailed(in PendingEnvelope first, int count, int attempt, int attempts, Outcome outcome, TimeSpan delay, Exception? exception)
        => Quietly(
            (logger, first, count, attempt, attempts, outcome, delay, exception),
            static s => ImmuneLog.AttemptFailed(s.logger, s.attempt, s.attempts, s.count, s.first.Sequence, s.first.Type, Reasons.Of(s.outcome), s.delay, s.exception));

    /// <summary>Reports that the stream started failing: the first failed attempt after a success (or since the start).</summary>
    public void StreamFailing(string reason, Exception? exception)
        => Quietly((logger, reason, exception), static s => ImmuneLog.StreamFailing(s.logger, s.reason, s.exception));

    /// <summary>Reports that the stream accepted envelopes again after a run of failed attempts.</summary>
    public void StreamRecovered(TimeSpan duration, long failedAttempts, long waiting)
        => Quietly((logger, duration, failedAttempts, waiting), static s => ImmuneLog.StreamRecovered(s.logger, s.duration, s.failedAttempts, s.waiting));

    public void LoopFault(Exception exception) => Quietly((logger, exception), static s => ImmuneLog.DeliveryLoopFault(s.logger, s.exception));

    /// <summary>Reports what the spool found at start: envelopes queued again, damage cut off and files moved aside.</summary>
    public void Recovered(string directory, long replayed, int damagedRegions, IReadOnlyList<string> movedAside)
        => Quietly((logger, metrics, directory, replayed, damagedRegions, movedAside), static s =>
        {
            s.metrics.Replayed(s.replayed);
            s.metrics.SpoolDamaged(s.damagedRegions);
            if (s.damagedRegions > 0)
            {
                ImmuneLog.SpoolDamaged(s.logger, s.directory, s.damagedRegions, string.Join(", ", s.movedAside));
            }
        });

    /// <summary>Reports that the spool gave up after a disk fault; envelopes from now on stay in memory only.</summary>
    public void SpoolUnavailable(string directory) => Quietly((logger, directory), static s => ImmuneLog.SpoolUnavailable(s.logger, s.directory));

    public void Stopped(ImmuneDeliveryStats stats)
        => Quietly((logger, stats), static s => ImmuneLog.DeliveryStopped(s.logger, s.stats.Queued, s.stats.Delivered, s.stats.Failed, s.stats.Dropped));

    /// <summary>
    /// Runs one report and swallows whatever it throws: a logger provider that throws (a full disk), an exception whose
    /// <c>Message</c> or <c>ToString</c> throws while it is formatted, a metrics listener that throws. The report is lost;
    /// what it reports is already counted in the stats, and delivery and the caller go on. The state is passed through
    /// so that the report allocates nothing.
    /// </summary>
    private static void Quietly<TState>(TState state, Action<TState> report)
    {
        try
        {
            report(state);
        }
        catch (Exception)
        {
            // See above: telemetry never fails a publish, a delivery or a disposal.
        }
    }

    private void SettledCore(in PendingEnvelope first, int count, EventEnvelope? envelope, in Settlement delivery)
    {
        switch (delivery.Outcome)
        {
            case Outcome.Delivered:
                metrics.Delivered(count, delivery.Duration);
                break;
            case Outcome.FailedTimeout or Outcome.FailedStreamError or Outcome.FailedRejected:
                string reason = Reasons.Of(delivery.Outcome);
                metrics.Failed(reason, count);
                if (_failureLog.TryAcquire(count, out long suppressed))
                {
                    ImmuneLog.EnvelopeFailed(logger, envelope?.Id, first.Type, first.Event.Id, first.Sequence, delivery.Attempts, reason, suppressed, delivery.Exception);
                }

                break;
            default:
                DroppedCore(first, count, Reasons.Shutdown);
                break;
        }
    }

    private void DroppedCore(in PendingEnvelope first, long count, string reason)
    {
        metrics.Dropped(reason, count);
        if (_dropLog.TryAcquire(count, out long suppressed))
        {
            // Only what existed is logged: an envelope shed from the queue never got an id.
            ImmuneLog.EnvelopeDropped(logger, first.Sequence, first.Type, first.Event.Id, reason, suppressed);
        }
    }
}
