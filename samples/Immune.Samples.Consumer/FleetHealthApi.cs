using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Consumer;

/// <summary><c>GET /api/immune/fleet/health?minutes=60</c>: the fleet's health from the consumer's <see cref="ImmuneFleetView"/>.</summary>
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
