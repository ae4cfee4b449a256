using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Consumer;

/// <summary>Where <see cref="PagerDutyPager"/> sends, bound from <c>Immune:Pager</c>; the routing key is a secret and never printed.</summary>
public sealed class PagerDutyOptions
{
    /// <summary>Gets or sets the Events API v2 endpoint.</summary>
    public Uri Url { get; set; } = new("https://events.pagerduty.com/v2/enqueue");

    /// <summary>Gets or sets the integration's routing key (<c>Immune__Pager__RoutingKey</c>); the pager is off without one.</summary>
    public string RoutingKey { get; set; } = string.Empty;

    /// <summary>Gets or sets how many times one action is tried when the service answers 429 or 5xx, or cannot be reached.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Gets or sets the wait before the second attempt; it doubles up to <see cref="MaxRetryDelay"/>, unless the answer says <c>Retry-After</c>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public override string ToString() => $"PagerDutyOptions {{ Url = {Url}, RoutingKey = (hidden), MaxAttempts = {MaxAttempts} }}";
}

/// <summary>
/// A pager that speaks the PagerDuty Events API v2: <c>trigger</c> on each escalation and <c>resolve</c> when the event
/// drops below CRITICAL, both under the fleet dedup key, so PagerDuty keeps one incident per event. A 429 or 5xx answer,
/// or no answer, is retried with a doubling backoff (or the <c>Retry-After</c> it was given) up to
/// <see cref="PagerDutyOptions.MaxAttempts"/>, then the call fails and the consumer retries the entry later. Any other
/// refusal (400: the event itself is wrong) is logged and not retried. The routing key goes only into request bodies.
/// </summary>
public sealed class PagerDutyPager(HttpClient http, PagerDutyOptions options, ILogger<PagerDutyPager> logger, TimeProvider timeProvider) : IOnCallPager
{
    private const int MaxSummary = 1024; // the Events API's limit

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>One Events API v2 request body.</summary>
    public sealed record Event(string RoutingKey, string EventAction, string DedupKey, EventPayload? Payload = null);

    /// <summary>What PagerDuty shows for a trigger.</summary>
    public sealed record EventPayload(string Summary, string Source, string Severity, DateTimeOffset Timestamp, string? Component, string Class, IReadOnlyDictionary<string, object?> CustomDetails);

    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => SendAsync(new Event(options.RoutingKey, "trigger", dedupKey, Describe(envelope)), cancellationToken);

    public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => SendAsync(new Event(options.RoutingKey, "resolve", dedupKey), cancellationToken);

    /// <summary>The trigger's payload: summary, where it happened, and the event's facts.</summary>
    public static EventPayload Describe(EventEnvelope envelope)
    {
        ImmunePayload p = envelope.Payload;
        string type = JsonNamingPolicy.SnakeCaseUpper.ConvertName(p.Type.ToString());
        string summary = $"[CRITICAL] {envelope.Source}: {p.Message}";
        return new EventPayload(
            summary.Length > MaxSummary ? summary[..(MaxSummary - 1)] + "…" : summary,
            envelope.Meta.InstanceId is { } instance ? $"{envelope.Source}/{instance}" : envelope.Source,
            "critical",
            envelope.Timestamp,
            p.Module,
            type,
            new Dictionary<string, object?>
            {
                ["event_id"] = p.EventId,
                ["instance_id"] = envelope.Meta.InstanceId,
                ["agent_id"] = p.AgentId,
                ["module"] = p.Module,
                ["type"] = type,
                ["envelope_id"] = envelope.Id,
            });
    }

    private async Task SendAsync(Event body, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            string problem;
            try
            {
                using HttpResponseMessage response = await http.PostAsJsonAsync(options.Url, body, Json, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                int status = (int)response.StatusCode;
                if (status != (int)HttpStatusCode.TooManyRequests && status < 500)
                {
                    logger.LogError("The pager refused the {Action} of {DedupKey}: HTTP {Status}; not retried", body.EventAction, body.DedupKey, status);
                    return; // the request itself is wrong: sending it again cannot help
                }

                problem = $"HTTP {status}";
                retryAfter = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - timeProvider.GetUtcNow() : null);
            }
            catch (HttpRequestException exception)
            {
                problem = exception.Message;
            }

            if (attempt >= options.MaxAttempts)
            {
                throw new HttpRequestException($"The pager did not take the {body.EventAction} of {body.DedupKey} after {attempt} attempts (last: {problem}).");
            }

            TimeSpan backoff = TimeSpan.FromTicks(Math.Min(options.MaxRetryDelay.Ticks, options.RetryDelay.Ticks << Math.Min(attempt - 1, 20)));
            TimeSpan wait = retryAfter is { } asked && asked > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(asked.Ticks, options.MaxRetryDelay.Ticks)) : backoff;
            logger.LogWarning("The pager answered {Problem} to the {Action} of {DedupKey}; attempt {Attempt} of {Max} in {Wait}", problem, body.EventAction, body.DedupKey, attempt + 1, options.MaxAttempts, wait);
            await Task.Delay(wait, timeProvider, cancellationToken);
        }
    }
}
