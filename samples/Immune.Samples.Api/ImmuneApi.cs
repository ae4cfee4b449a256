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
        api.MapGet("/health", (IImmuneService immune, string? minutes) => HttpProblems.TryWindow(minutes, ImmuneServiceExtensions.DefaultWindow, out TimeSpan window, out IResult? problem)
            ? Results.Ok(Summarize(immune.GetHealthSummary(window)))
            : problem!);
        api.MapGet("/events", (IImmuneService immune, string? minutes) => HttpProblems.TryWindow(minutes, ImmuneServiceExtensions.DefaultWindow, out TimeSpan window, out IResult? problem)
            ? Results.Ok(immune.GetRecentEvents(window).Select(EventResponse.From).ToList())
            : problem!);
        api.MapPost("/event/{id:long}/severity", ChangeSeverityAsync);
        return app;
    }

    private static async Task<IResult> PublishAsync(HttpRequest request, IImmuneService immune, CancellationToken cancellationToken)
    {
        (JsonDocument? body, IResult? problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (body is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>();
        NewImmuneEvent? newEvent;
        using (body)
        {
            newEvent = EventRequestReader.Read(body.RootElement, errors);
        }

        if (newEvent is null)
        {
            return HttpProblems.Validation(errors);
        }

        try
        {
            return Results.Ok(await immune.PublishAsync(newEvent, cancellationToken));
        }
        catch (ArgumentException exception)
        {
            // The service names the field (Message, AgentId, Module, Meta): answer in the request's own names.
            (string field, string message) = EventRequestReader.Describe(exception);
            return HttpProblems.Validation(field, message);
        }
    }

    private static async Task<IResult> ChangeSeverityAsync(long id, HttpRequest request, IImmuneService immune, CancellationToken cancellationToken)
    {
        (JsonDocument? body, IResult? problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (body is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>();
        ImmuneSeverity? severity;
        using (body)
        {
            severity = EventRequestReader.ReadFields(body.RootElement, ["severity"], errors) is { } values
                ? EventRequestReader.Enum(values, "severity", WireNames.Severities, errors)
                : null;
        }

        if (errors.Count > 0 || severity is null)
        {
            return HttpProblems.Validation(errors);
        }

        return await immune.ChangeSeverityAsync(id, severity.Value, cancellationToken)
            ? Results.Ok(new { id, severity })
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such event.", detail: $"No event with id {id} is retained.");
    }

    private static HealthResponse Summarize(ImmuneHealthSummary s) => new(
        s.ActiveIssues, s.CriticalIssues, s.Occurrences, s.LastEvents.Select(EventResponse.From).ToList(), s.Status, s.Window.TotalMinutes, s.GeneratedAt,
        WireNames.Severities.ToDictionary(p => p.Key, p => s.CountsBySeverity[p.Value]),
        WireNames.Types.ToDictionary(p => p.Key, p => s.CountsByType[p.Value]));
}
