using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Immune.Fleet.AspNetCore;

/// <summary>
/// Serves the dashboard's files (embedded in the assembly, read once) and the fleet's JSON (a HEAD gets the headers and
/// no body), and sets the security headers <see cref="FleetRoutes"/> puts on every fleet answer.
/// </summary>
internal static class FleetPage
{
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static readonly ConcurrentDictionary<string, byte[]> Files = new(StringComparer.Ordinal);

    /// <summary>Sets the headers every fleet answer carries (once the answer starts): what the page may load (its own files only), no framing, no sniffing, no referrer.</summary>
    public static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = Policy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }

    /// <summary>Serves one of the dashboard's files.</summary>
    public static async Task ServeAsync(HttpContext context, string name)
    {
        byte[] body = Files.GetOrAdd(name, Read);
        context.Response.ContentType = name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8"
            : name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8"
            : "text/html; charset=utf-8";
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a JSON answer (headers only for a HEAD).</summary>
    public static async Task JsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static byte[] Read(string name)
    {
        using Stream stream = typeof(FleetPage).Assembly.GetManifestResourceStream("Immune.Fleet.Page." + name)
            ?? throw new InvalidOperationException($"The dashboard file {name} is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
