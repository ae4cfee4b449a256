using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Samples.Consumer;

/// <summary><c>GET /api/immune/fleet/health?minutes=60</c>: the fleet's health from the consumer's <see cref="ImmuneFleetView"/>.</summary>
public static class FleetHealthApi
{
    /// <summary>The longest window: about 100 years, well inside <see cref="TimeSpan"/>.</summary>
    private const double MaxMinutes = 100 * 365.25 * 24 * 60;

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
        app.MapGet("/api/immune/fleet/health", (ImmuneFleetView fleet, double? minutes) =>
        {
            if (minutes is { } m && (!double.IsFinite(m) || m < 0 || m > MaxMinutes))
            {
                string text = string.Create(CultureInfo.InvariantCulture, $"minutes must be a number from 0 to {MaxMinutes:N0} (was {m}).");
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["minutes"] = [text] });
            }

            return Results.Ok(Describe(fleet.GetHealthSummary(TimeSpan.FromMinutes(minutes ?? 60))));
        });
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
