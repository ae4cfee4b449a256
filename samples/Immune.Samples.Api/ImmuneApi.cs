using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Api;

/// <summary>The routes of the original immune router, over <see cref="IImmuneService"/>.</summary>
public static class ImmuneApi
{
    /// <summary>An event as the API returns it.</summary>
    public sealed record EventResponse(long Id, ImmuneSeverity Severity, ImmuneEventType Type, string Message, string? AgentId, string? Module, IReadOnlyDictionary<string, object?>? Meta, DateTimeOffset CreatedAt, long Occurrences, DateTimeOffset LastSeenAt)
    {
        public static EventResponse From(ImmuneEvent e) => new(e.Id, e.Severity, e.Type, e.Message, e.AgentId, e.Module, e.Meta, e.CreatedAt, e.Occurrences, e.LastSeenAt);
    }

    /// <summary>The summary as the API returns it.</summary>
    public sealed record HealthResponse(
        int ActiveIssues,
        int CriticalIssues,
        long Occurrences,
        IReadOnlyList<EventResponse> LastEvents,
        ImmuneHealthStatus Status,
        double WindowMinutes,
        DateTimeOffset GeneratedAt,
        IReadOnlyDictionary<string, int> CountsBySeverity,
        IReadOnlyDictionary<string, int> CountsByType);

    /// <summary>JSON as the original router spoke it: snake_case names, upper-case snake enum values.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper, allowIntegerValues: false));
    }

    /// <summary>Maps the routes under <c>/api/immune</c>.</summary>
    public static IEndpointRouteBuilder MapImmuneApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/api/immune");
        api.MapPost("/event", PublishAsync);
        api.MapGet("/health", (IImmuneService immune, double? minutes) => Window(minutes, out TimeSpan window, out IResult? problem)
            ? Results.Ok(Summarize(immune.GetHealthSummary(window)))
            : problem!);
        api.MapGet("/events", (IImmuneService immune, double? minutes) => Window(minutes, out TimeSpan window, out IResult? problem)
            ? Results.Ok(immune.GetRecentEvents(window).Select(EventResponse.From).ToList())
            : problem!);
        api.MapPost("/event/{id:long}/severity", ChangeSeverityAsync);
        return app;
    }

    private static async Task<IResult> PublishAsync(HttpRequest request, IImmuneService immune, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        NewImmuneEvent? newEvent = null;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 64 }, cancellationToken);
            newEvent = EventRequestReader.Read(body.RootElement, errors);
        }
        catch (JsonException exception)
        {
            errors["body"] = [$"The body is not valid JSON: {exception.Message}"];
        }

        if (newEvent is null)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            return Results.Ok(await immune.PublishAsync(newEvent, cancellationToken));
        }
        catch (ArgumentException exception)
        {
            // The service names the field (Message, AgentId, Module, Meta): answer in the request's own names.
            (string field, string message) = EventRequestReader.Describe(exception);
            return Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
        }
    }

    private static async Task<IResult> ChangeSeverityAsync(long id, JsonElement request, IImmuneService immune, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var values = request.ValueKind == JsonValueKind.Object
            ? request.EnumerateObject().GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Last().Value)
            : new Dictionary<string, JsonElement>();
        if (EventRequestReader.Enum(values, "severity", WireNames.Severities, errors) is not ImmuneSeverity severity)
        {
            return Results.ValidationProblem(errors);
        }

        return await immune.ChangeSeverityAsync(id, severity, cancellationToken)
            ? Results.Ok(new { id, severity })
            : Results.NotFound();
    }

    /// <summary>The longest window: about 100 years, well inside <see cref="TimeSpan"/>.</summary>
    private const double MaxMinutes = 100 * 365.25 * 24 * 60;

    private static bool Window(double? minutes, out TimeSpan window, out IResult? problem)
    {
        window = ImmuneServiceExtensions.DefaultWindow;
        problem = null;
        if (minutes is null)
        {
            return true;
        }

        if (!double.IsFinite(minutes.Value) || minutes < 0 || minutes > MaxMinutes)
        {
            string text = minutes > MaxMinutes
                ? string.Create(CultureInfo.InvariantCulture, $"minutes must be at most {MaxMinutes:N0} (was {minutes}).")
                : string.Create(CultureInfo.InvariantCulture, $"minutes must be a number from 0 to {MaxMinutes:N0} (was {minutes}).");
            problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["minutes"] = [text] });
            return false;
        }

        window = TimeSpan.FromMinutes(minutes.Value);
        return true;
    }

    private static HealthResponse Summarize(ImmuneHealthSummary s) => new(
        s.ActiveIssues, s.CriticalIssues, s.Occurrences, s.LastEvents.Select(EventResponse.From).ToList(), s.Status, s.Window.TotalMinutes, s.GeneratedAt,
        WireNames.Severities.ToDictionary(p => p.Key, p => s.CountsBySeverity[p.Value]),
        WireNames.Types.ToDictionary(p => p.Key, p => s.CountsByType[p.Value]));
}
