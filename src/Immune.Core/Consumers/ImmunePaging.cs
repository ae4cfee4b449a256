using System.Security.Cryptography;
using System.Text;
using Immune.Delivery;
using Immune.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune;

/// <summary>
/// On-call paging from the envelopes a consumer group reads: each <c>immune.critical_event</c> (a CRITICAL publish, or an
/// escalation) triggers a page, and an <c>immune.severity_changed</c> from CRITICAL to a lower severity resolves it,
/// both under the incident's <see cref="DedupKey"/>, at most once and in the event's own time order per key through an
/// <see cref="IImmunePagerLedger"/> that every consumer of the group shares.
/// </summary>
/// <remarks>
/// <para>
/// When the pager cannot be reached, <see cref="HandleAsync"/> throws: the consumer leaves the entry unacknowledged, so
/// the action stays pending and is sent when the pager answers again, and paging shows as failing in
/// <see cref="GetStatus"/> meanwhile. When the pager refuses an action for good, it is logged and counted as refused,
/// and neither recorded as sent nor retried.
/// </para>
/// <para>Thread-safe: every consumer of a process may share one.</para>
/// </remarks>
public sealed class ImmunePaging
{
    /// <summary>The longest dedup key: PagerDuty's limit, 255 characters.</summary>
    public const int MaxDedupKeyLength = 255;

    private const string Trigger = "trigger", Resolve = "resolve";

    private readonly IImmunePager _pager;
    private readonly IImmunePagerLedger _ledger;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly LogLimiter _failureLog;
    private readonly Gate _gate = new();
    private long _sent, _refused, _failed;
    private DateTimeOffset? _failingSince;
    private string? _lastProblem;

    /// <summary>Creates paging through <paramref name="pager"/>, deduplicated by <paramref name="ledger"/>.</summary>
    /// <param name="pager">The pager. Must not be null.</param>
    /// <param name="ledger">What the group sent, shared by every consumer of it. Must not be null.</param>
    /// <param name="logger">The logger; null for none.</param>
    /// <param name="timeProvider">The clock; null for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pager"/> or <paramref name="ledger"/> is null.</exception>
    public ImmunePaging(IImmunePager pager, IImmunePagerLedger ledger, ILogger<ImmunePaging>? logger = null, TimeProvider? timeProvider = null)
    {
        Guard.NotNull(pager, nameof(pager));
        Guard.NotNull(ledger, nameof(ledger));
        _pager = pager;
        _ledger = ledger;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _failureLog = new LogLimiter(_timeProvider, TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// Gets the incident key of an event: <c>immune_critical_&lt;source&gt;_&lt;instance_id&gt;_&lt;event_id&gt;</c> (its fleet
    /// identity; <c>-</c> for no instance id), so every escalation of one event shares it and no other event has it. A key
    /// longer than <see cref="MaxDedupKeyLength"/> keeps its start and ends with a hash of the whole, so it stays unique.
    /// </summary>
    /// <param name="envelope">Any envelope about the event. Must not be null.</param>
    /// <returns>The key, at most 255 characters.</returns>
    public static string DedupKey(EventEnvelope envelope)
    {
        Guard.NotNull(envelope, nameof(envelope));
        string instance = string.IsNullOrEmpty(envelope.Meta?.InstanceId) ? "-" : envelope.Meta.InstanceId;
        string key = $"immune_critical_{envelope.Source}_{instance}_{envelope.Payload.EventId}";
        if (key.Length <= MaxDedupKeyLength)
        {
            return key;
        }

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0, 16).ToLowerInvariant();
        int keep = MaxDedupKeyLength - hash.Length - 1;
        keep -= char.IsHighSurrogate(key[keep - 1]) ? 1 : 0; // never half a surrogate pair
        return $"{key[..keep]}~{hash}";
    }

    /// <summary>Handles one envelope: pages, resolves, or does nothing.</summary>
    /// <param name="envelope">The envelope the consumer read. Must not be null.</param>
    /// <param name="cancellationToken">Cancels the pager call.</param>
    /// <returns>What was done.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="envelope"/> is null.</exception>
    /// <remarks>Any exception other than cancellation means the pager was not reached: leave the entry pending and try it again later.</remarks>
    public async Task<ImmunePagingResult> HandleAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(envelope, nameof(envelope));
        (string Action, DateTimeOffset At)? action = envelope.Payload switch
        {
            ImmuneCriticalEventPayload critical => (Trigger, critical.CriticalAt),
            ImmuneSeverityChangedPayload { PreviousSeverity: ImmuneSeverity.Critical, Severity: not ImmuneSeverity.Critical } resolved => (Resolve, resolved.ChangedAt),
            _ => null,
        };
        if (action is not { } what)
        {
            return ImmunePagingResult.Ignored;
        }

        string dedupKey = DedupKey(envelope);
        try
        {
            bool sent = await _ledger.SendOnceAsync(dedupKey, what.Action, what.At, envelope.Id, () => what.Action == Trigger
                ? _pager.PageAsync(dedupKey, envelope, cancellationToken)
                : _pager.ResolveAsync(dedupKey, envelope, cancellationToken), cancellationToken).ConfigureAwait(false);
            Succeeded(sent);
            return sent ? ImmunePagingResult.Sent : ImmunePagingResult.AlreadySent;
        }
        catch (ImmunePageRefusedException refusal)
        {
            Refused(what.Action, dedupKey, refusal);
            return ImmunePagingResult.Refused;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            FailedCall(what.Action, dedupKey, exception);
            throw;
        }
    }

    /// <summary>Gets how paging is doing.</summary>
    /// <returns>A snapshot.</returns>
    public ImmunePagingStatus GetStatus()
    {
        lock (_gate)
        {
            return new ImmunePagingStatus { Sent = _sent, Refused = _refused, Failed = _failed, FailingSince = _failingSince, LastProblem = _lastProblem };
        }
    }

    private void Succeeded(bool sent)
    {
        lock (_gate)
        {
            _sent += sent ? 1 : 0;
            _failingSince = null; // the pager (or the ledger) answered
        }
    }

    private void Refused(string action, string dedupKey, ImmunePageRefusedException refusal)
    {
        string reason = refusal.Message;
        lock (_gate)
        {
            _refused++;
            _failingSince = null; // it answered, if only to refuse
            _lastProblem = $"refused: {reason}";
        }

        Quietly(() => ImmuneLog.PageRefused(_logger, action, dedupKey, reason));
    }

    private void FailedCall(string action, string dedupKey, Exception exception)
    {
        string error = $"{exception.GetType().Name}: {exception.Message}";
        lock (_gate)
        {
            _failed++;
            _failingSince ??= _timeProvider.GetUtcNow();
            _lastProblem = error;
        }

        if (_failureLog.TryAcquire(1, out long suppressed))
        {
            Quietly(() => ImmuneLog.PageFailed(_logger, action, dedupKey, error, suppressed, exception));
        }
    }

    private static void Quietly(Action report)
    {
        try
        {
            report();
        }
        catch (Exception)
        {
            // A logger that throws loses that entry; paging goes on.
        }
    }
}
