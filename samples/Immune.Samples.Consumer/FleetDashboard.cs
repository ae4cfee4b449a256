namespace Immune.Samples.Consumer;

/// <summary>
/// The events per minute the live fleet dashboard charts, at <c>GET /api/immune/fleet/rate?minutes=60</c>. The page
/// itself (plain HTML, CSS and a small script from <c>wwwroot</c>, no build step) polls this host's JSON every 2
/// seconds; <see cref="FleetEndpoints"/> maps it.
/// </summary>
public static class FleetDashboard
{
    /// <summary>The most minutes one rate request may ask for: a day.</summary>
    public const int MaxRateMinutes = 1440;

    /// <summary>The events recorded in one clock minute, by their current severity.</summary>
    public sealed record MinuteResponse(DateTimeOffset Start, int Info, int Warning, int Critical);

    /// <summary>Maps <c>GET /api/immune/fleet/rate</c>.</summary>
    public static RouteHandlerBuilder MapFleetRate(this IEndpointRouteBuilder app)
        => app.MapGet("/api/immune/fleet/rate", (ImmuneFleetView fleet, TimeProvider time, string? minutes)
            => HttpProblems.TryCount("minutes", minutes, 60, 1, MaxRateMinutes, out int count, out IResult? problem)
                ? Results.Ok(Rate(fleet, time.GetUtcNow(), count))
                : problem!);

    /// <summary>
    /// The events the view counts per clock minute over the last <paramref name="minutes"/> (the current, partial minute
    /// last), by current severity: differences of summaries whose windows end on the minute boundaries.
    /// </summary>
    public static IReadOnlyList<MinuteResponse> Rate(ImmuneFleetView fleet, DateTimeOffset now, int minutes)
    {
        var currentMinute = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        var result = new MinuteResponse[minutes];
        IReadOnlyDictionary<ImmuneSeverity, int> newer = fleet.GetHealthSummary(TimeSpan.Zero).CountsBySeverity; // recorded at now or later
        for (int k = minutes - 1; k >= 0; k--)
        {
            DateTimeOffset start = currentMinute.AddMinutes(k - (minutes - 1));
            IReadOnlyDictionary<ImmuneSeverity, int> since = fleet.GetHealthSummary(now - start).CountsBySeverity;
            result[k] = new MinuteResponse(
                start,
                since[ImmuneSeverity.Info] - newer[ImmuneSeverity.Info],
                since[ImmuneSeverity.Warning] - newer[ImmuneSeverity.Warning],
                since[ImmuneSeverity.Critical] - newer[ImmuneSeverity.Critical]);
            newer = since;
        }

        return result;
    }
}
