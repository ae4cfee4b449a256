namespace Immune.Samples.Consumer;

/// <summary>
/// Everything the people who watch the fleet look at, as one group of plain endpoints a host can put behind its own
/// authorization with one line (<c>app.MapImmuneFleet().RequireAuthorization();</c>): the dashboard page and its files,
/// the JSON it polls (fleet health, incidents, rate) and the Prometheus scrape at <c>/metrics</c>.
/// </summary>
public static class FleetEndpoints
{
    private static readonly (string Path, string File, string ContentType)[] PageFiles =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Maps the page, the JSON and <c>/metrics</c>; returns the group, for conventions such as authorization.</summary>
    public static RouteGroupBuilder MapImmuneFleet(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup(string.Empty);
        foreach ((string path, string file, string contentType) in PageFiles)
        {
            group.MapGet(path, (IWebHostEnvironment host) =>
                host.WebRootFileProvider.GetFileInfo(file) is { Exists: true } info
                    ? Results.Stream(info.CreateReadStream(), contentType)
                    : Results.NotFound());
        }

        group.MapFleetHealth();
        group.MapFleetRate();
        group.MapPrometheusScrapingEndpoint();
        return group;
    }
}
