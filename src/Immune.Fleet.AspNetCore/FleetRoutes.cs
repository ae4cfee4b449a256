using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Immune.Fleet.AspNetCore;

/// <summary>
/// The paths <c>MapImmuneFleet()</c> mapped, and the middleware (first in the pipeline) that puts the fleet's security
/// headers on every answer under them, the ones other middleware gives too: a 401 from <c>.RequireAuthorization()</c>,
/// a 404, a 500. The host's other routes are left alone.
/// </summary>
internal sealed class FleetRoutes : IStartupFilter
{
    private static readonly string[] Files = ["", "/", "/dashboard.js", "/dashboard.css"];
    private const string Api = "/api/immune/fleet";
    private volatile PathString[] _prefixes = [];

    /// <summary>Adds the prefix the fleet was mapped under.</summary>
    public void Add(PathString prefix) => _prefixes = [.. _prefixes, prefix];

    /// <summary>Whether a request path is one of the fleet's.</summary>
    public bool Covers(PathString path)
    {
        foreach (PathString prefix in _prefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase, out PathString rest)
                && (Files.Contains(rest.Value ?? string.Empty, StringComparer.OrdinalIgnoreCase) || rest.StartsWithSegments(Api, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextStep) =>
        {
            if (Covers(context.Request.Path))
            {
                context.Response.OnStarting(static state =>
                {
                    FleetPage.Secure((HttpResponse)state);
                    return Task.CompletedTask;
                }, context.Response);
            }

            return nextStep(context);
        });
        next(app);
    };
}
