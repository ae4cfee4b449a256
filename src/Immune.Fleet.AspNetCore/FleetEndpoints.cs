using Immune.Fleet.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the watching side of an Immune fleet: its JSON and its live dashboard.</summary>
public static class ImmuneFleetEndpointRouteBuilderExtensions
{
    private const int MaxIncidents = 10_000;
    private const int MaxRateMinutes = 1_440;
    private const int MaxWindowMinutes = 44_640; // 31 days

    /// <summary>
    /// Maps the fleet's dashboard (<c>/</c>, with its script and style, embedded in the package) and its JSON:
    /// <c>api/immune/fleet/health?minutes=60&amp;sources=50</c> (the window's summary, the worst sources first with the
    /// rest counted, open incidents, and whether the data is live), <c>api/immune/fleet/incidents?max=100</c> (the open
    /// incidents, CRITICAL first) and <c>api/immune/fleet/rate?minutes=60</c> (events recorded per minute, by their
    /// severity at publication). Every answer costs the same whatever the fleet's size, answers GET and HEAD, carries a
    /// strict Content-Security-Policy, <c>X-Content-Type-Options: nosniff</c> and <c>frame-ancestors 'none'</c>, and a
    /// client error is a 400 problem that names the parameter. Needs <c>services.AddImmuneFleet()</c>, whose middleware puts those headers on every answer under these routes, a 401 of <c>.RequireAuthorization()</c> too.
    /// </summary>
    /// <param name="endpoints">The routes. Must not be null.</param>
    /// <param name="prefix">The path the dashboard lives under (<c>/fleet</c>); empty for the root.</param>
    /// <returns>The group of these routes, for conventions such as <c>.RequireAuthorization()</c>.</returns>
    public static RouteGroupBuilder MapImmuneFleet(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        endpoints.ServiceProvider.GetService<FleetRoutes>()?.Add(new PathString(prefix == "/" ? string.Empty : prefix));
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        group.MapMethods("/", methods, static context =>
        {
            if (!context.Request.Path.Value!.EndsWith('/'))
            {
                // The page links its script and JSON relatively: under a prefix it must be served with its slash.
                context.Response.Redirect(context.Request.PathBase + context.Request.Path + "/" + context.Request.QueryString);
                return Task.CompletedTask;
            }

            return FleetPage.ServeAsync(context, "index.html");
        });
        group.MapMethods("/dashboard.js", methods, context => FleetPage.ServeAsync(context, "dashboard.js"));
        group.MapMethods("/dashboard.css", methods, context => FleetPage.ServeAsync(context, "dashboard.css"));
        group.MapMethods("/api/immune/fleet/health", methods, HealthAsync);
        group.MapMethods("/api/immune/fleet/incidents", methods, IncidentsAsync);
        group.MapMethods("/api/immune/fleet/rate", methods, RateAsync);
        return group;
    }

    private static Task HealthAsync(HttpContext context)
    {
        FleetHost host = context.RequestServices.GetRequiredService<FleetHost>();
        if (!FleetQuery.TryRead(context, "minutes", host.Options.WindowMinutes, 1, MaxWindowMinutes, out int minutes, out IResult? problem)
            || !FleetQuery.TryRead(context, "sources", host.Options.MaxSources, 1, host.Options.MaxSources, out int sources, out problem))
        {
            return problem!.ExecuteAsync(context);
        }

        return FleetPage.JsonAsync(context, host.Health(TimeSpan.FromMinutes(minutes), sources), FleetJsonContext.Default.HealthResponse);
    }

    private static Task IncidentsAsync(HttpContext context)
    {
        FleetHost host = context.RequestServices.GetRequiredService<FleetHost>();
        return FleetQuery.TryRead(context, "max", 100, 1, MaxIncidents, out int max, out IResult? problem)
            ? FleetPage.JsonAsync(context, host.Incidents(max), FleetJsonContext.Default.IReadOnlyListIncidentResponse)
            : problem!.ExecuteAsync(context);
    }

    private static Task RateAsync(HttpContext context)
    {
        FleetHost host = context.RequestServices.GetRequiredService<FleetHost>();
        return FleetQuery.TryRead(context, "minutes", 60, 1, MaxRateMinutes, out int minutes, out IResult? problem)
            ? FleetPage.JsonAsync(context, host.Rate(minutes), FleetJsonContext.Default.IReadOnlyListMinuteResponse)
            : problem!.ExecuteAsync(context);
    }
}
