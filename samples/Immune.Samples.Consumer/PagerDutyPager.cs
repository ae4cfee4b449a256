using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Consumer;

/// <summary>
/// A pager that speaks the PagerDuty Events API v2: <c>trigger</c> on each escalation and <c>resolve</c> when the event
/// drops below CRITICAL, both under the fleet dedup key, so PagerDuty keeps one incident per event. A 429 or 5xx answer,
/// or no answer, is retried with a doubling backoff (or the <c>Retry-After</c> it was given) up to
/// <see cref="PagerDutyOptions.MaxAttempts"/>, then the call fails: the page stays pending and the consumer sends it
/// again later. Any other refusal (400: the event itself is wrong; 404: a mistyped URL) is an
/// <see cref="ImmunePageRefusedException"/>: counted and logged as refused, never recorded as sent. The routing key goes
/// only into request bodies. Everything else (the ledger, the order, the retries of pending pages) is Immune's.
/// </summary>
public sealed class PagerDutyPager(IHttpClientFactory http, PagerDutyOptions options, ILogger<PagerDutyPager> logger, TimeProvider timeProvider) : IImmunePager
{
    /// <summary>The name of the <see cref="HttpClient"/> it sends with.</summary>
    public const string HttpClientName = "pagerduty";

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

    /// <inheritdoc />
    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => SendAsync(new Event(options.RoutingKey, "trigger", dedupKey, Describe(envelope)), cancellationToken);

    /// <inheritdoc />
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
                using HttpClient client = http.CreateClient(HttpClientName);
                using HttpResponseMessage response = await client.PostAsJsonAsync(options.Url, body, Json, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                int status = (int)response.StatusCode;
                if (status != (int)HttpStatusCode.TooManyRequests && status < 500)
                {
                    // The request itself is wrong (or the URL is): sending it again cannot help, and it was not sent.
                    throw new ImmunePageRefusedException($"PagerDuty refused the {body.EventAction}: HTTP {status}.");
                }

                problem = $"HTTP {status}";
                retryAfter = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - timeProvider.GetUtcNow() : null);
            }
            catch (HttpRequestException exception)
            {
                problem = exception.Message;
            }
            catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                problem = exception.Message; // the client's timeout: no answer
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
