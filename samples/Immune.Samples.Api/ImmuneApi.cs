using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Api;

/// <summary>The routes of the original immune router, over <see cref="IImmuneService"/>.</summary>
public static class ImmuneApi
{
    private static readonly Dictionary<string, ImmuneSeverity> Severities = new(StringComparer.Ordinal)
    {
        ["INFO"] = ImmuneSeverity.Info, ["WARNING"] = ImmuneSeverity.Warning, ["CRITICAL"] = ImmuneSeverity.Critical,
    };

    private static readonly Dictionary<string, ImmuneEventType> Types = new(StringComparer.Ordinal)
    {
        ["POLICY_VIOLATION"] = ImmuneEventType.PolicyViolation, ["ERROR_SPIKE"] = ImmuneEventType.ErrorSpike, ["SELF_HEALING_ACTION"] = ImmuneEventType.SelfHealingAction,
    };

    /// <summary>The request body of <c>POST /api/immune/event</c> (snake_case JSON).</summary>
    public sealed record EventRequest(string? Severity, string? Type, string? Message, string? AgentId, string? Module, JsonElement? Meta);

    /// <summary>The request body of <c>POST /api/immune/event/{id}/severity</c>.</summary>
    public sealed record SeverityRequest(string? Severity);

    /// <summary>An event as the API returns it.</summary>
    public sealed record EventResponse(long Id, ImmuneSeverity Severity, ImmuneEventType Type, string Message, string? AgentId, string? Module, IReadOnlyDictionary<string, object?>? Meta, DateTimeOffset CreatedAt)
    {
        public static EventResponse From(ImmuneEvent e) => new(e.Id, e.Severity, e.Type, e.Message, e.AgentId, e.Module, e.Meta, e.CreatedAt);
    }

    /// <summary>The summary as the API returns it.</summary>
    public sealed record HealthResponse(
        int ActiveIssues,
        int CriticalIssues,
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

    private static async Task<IResult> PublishAsync(EventRequest request, IImmuneService immune, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Severities.TryGetValue(request.Severity ?? "", out ImmuneSeverity severity))
        {
            errors["severity"] = [$"severity must be one of {string.Join(", ", Severities.Keys)}."];
        }

        if (!Types.TryGetValue(request.Type ?? "", out ImmuneEventType type))
        {
            errors["type"] = [$"type must be one of {string.Join(", ", Types.Keys)}."];
        }

        IReadOnlyDictionary<string, object?>? meta = null;
        if (request.Meta is { ValueKind: not JsonValueKind.Null } element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                meta = (IReadOnlyDictionary<string, object?>)Plain(element)!;
            }
            else
            {
                errors["meta"] = ["meta must be a JSON object."];
            }
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            long id = await immune.PublishAsync(new NewImmuneEvent(severity, type, request.Message!) { AgentId = request.AgentId, Module = request.Module, Meta = meta }, cancellationToken);
            return Results.Ok(id);
        }
        catch (ArgumentException exception)
        {
            // The service names the field (Message, AgentId, Module, Meta): answer in the request's own names.
            string field = JsonNamingPolicy.SnakeCaseLower.ConvertName(exception.ParamName ?? "event");
            return Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [exception.Message] });
        }
    }

    private static async Task<IResult> ChangeSeverityAsync(long id, SeverityRequest request, IImmuneService immune, CancellationToken cancellationToken)
    {
        if (!Severities.TryGetValue(request.Severity ?? "", out ImmuneSeverity severity))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["severity"] = [$"severity must be one of {string.Join(", ", Severities.Keys)}."] });
        }

        return await immune.ChangeSeverityAsync(id, severity, cancellationToken)
            ? Results.Ok(new { id, severity })
            : Results.NotFound();
    }

    private static bool Window(double? minutes, out TimeSpan window, out IResult? problem)
    {
        window = ImmuneServiceExtensions.DefaultWindow;
        problem = null;
        if (minutes is null)
        {
            return true;
        }

        if (!double.IsFinite(minutes.Value) || minutes < 0 || minutes > TimeSpan.MaxValue.TotalMinutes)
        {
            problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["minutes"] = ["minutes must be a non-negative number."] });
            return false;
        }

        window = TimeSpan.FromMinutes(minutes.Value);
        return true;
    }

    private static HealthResponse Summarize(ImmuneHealthSummary s) => new(
        s.ActiveIssues, s.CriticalIssues, s.LastEvents.Select(EventResponse.From).ToList(), s.Status, s.Window.TotalMinutes, s.GeneratedAt,
        Severities.ToDictionary(p => p.Key, p => s.CountsBySeverity[p.Value]),
        Types.ToDictionary(p => p.Key, p => s.CountsByType[p.Value]));

    /// <summary>JSON to the plain values the service accepts as meta (string, long or double, bool, null, dictionaries, lists).</summary>
    private static object? Plain(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => Plain(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Select(Plain).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out long integer) ? integer : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
