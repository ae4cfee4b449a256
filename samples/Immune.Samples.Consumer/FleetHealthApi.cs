using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Consumer;

/// <summary>
/// <c>GET /api/immune/fleet/health?minutes=60</c>: the fleet's health, and <c>GET /api/immune/fleet/incidents?minutes=60&amp;max=100</c>:
/// its open incidents, from the consumer's <see cref="ImmuneFleetView"/>.
/// </summary>
public static class FleetHealthApi
{
    /// <summary>One source in <see cref="FleetHealthResponse"/>.</summary>
    public sealed record SourceHealthResponse(string Source, ImmuneHealthStatus Status, int ActiveIssues, int CriticalIssues, int Instances);

    /// <summary>The fleet summary as the endpoint returns it.</summary>
    public sealed record FleetHealthResponse(
        ImmuneHealthStatus Status,
        int ActiveIssues,
        int CriticalIssues,
        IReadOnlyDictionary<string, int> CountsBySeverity,
        IReadOnlyDictionary<string, int> CountsByType,
        double WindowMinutes,
        DateTimeOffset GeneratedAt,
        IReadOnlyList<SourceHealthResponse> Sources);

    /// <summary>One open incident, as <c>/api/immune/fleet/incidents</c> returns it.</summary>
    public sealed record IncidentResponse(
        string Source,
        string? InstanceId,
        long EventId,
        ImmuneSeverity Severity,
        ImmuneEventType Type,
        string Message,
        string? AgentId,
        string? Module,
        DateTimeOffset RecordedAt,
        DateTimeOffset ChangedAt,
        long Occurrences);

    /// <summary>JSON like the API sample's: snake_case names, upper-case snake enum values.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper, allowIntegerValues: false));
    }

    /// <summary>Maps the route.</summary>
    public static IEndpointRouteBuilder MapFleetHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/immune/fleet/health", (ImmuneFleetView fleet, string? minutes) => HttpProblems.TryWindow(minutes, TimeSpan.FromHours(1), out TimeSpan window, out IResult? problem)
            ? Results.Ok(Describe(fleet.GetHealthSummary(window)))
            : problem!);
        app.MapGet("/api/immune/fleet/incidents", (ImmuneFleetView fleet, string? minutes, string? max) =>
            !HttpProblems.TryWindow(minutes, TimeSpan.FromHours(1), out TimeSpan window, out IResult? problem) ? problem!
            : !HttpProblems.TryCount("max", max, 100, 1, 10_000, out int count, out problem) ? problem!
            : Results.Ok(fleet.GetIncidents(window, count).Select(i => new IncidentResponse(
                i.Source, i.InstanceId, i.EventId, i.Severity, i.Type, i.Message, i.AgentId, i.Module, i.RecordedAt, i.ChangedAt, i.Occurrences))));
        return app;
    }

    private static FleetHealthResponse Describe(ImmuneFleetSummary s) => new(
        s.Status,
        s.ActiveIssues,
        s.CriticalIssues,
        s.CountsBySeverity.ToDictionary(p => WireName(p.Key), p => p.Value),
        s.CountsByType.ToDictionary(p => WireName(p.Key), p => p.Value),
        s.Window.TotalMinutes,
        s.GeneratedAt,
        [.. s.Sources.Select(h => new SourceHealthResponse(h.Source, h.Status, h.ActiveIssues, h.CriticalIssues, h.Instances))]);

    /// <summary>The wire spelling of a severity or type (<c>CRITICAL</c>, <c>ERROR_SPIKE</c>), as in the envelopes.</summary>
    private static string WireName<TEnum>(TEnum value)
        where TEnum : struct, Enum
        => JsonNamingPolicy.SnakeCaseUpper.ConvertName(value.ToString());
}
