using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Immune.Samples.Tests;

/// <summary>A local stand-in for the Events API: records every request body and answers 202, or the statuses it is told to first.</summary>
internal sealed class PagerReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _answers = new();
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PagerReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<JsonElement> Requests { get; } = new();

    /// <summary>Gets the requests answered 202, in order.</summary>
    public List<JsonElement> Accepted { get; } = [];

    /// <summary>Gets or sets whether every request is answered 500, as by a pager in an outage.</summary>
    public bool Down { get; set; }

    public Task FirstRequest => _first.Task;

    public string Url { get; private set; } = string.Empty;

    /// <summary>Gets the (dedup key, action) of every request, in arrival order.</summary>
    public List<(string Key, string Action)> Actions => [.. Requests.Select(r => (r.GetProperty("dedup_key").GetString()!, r.GetProperty("event_action").GetString()!))];

    public void Answer(params int[] statuses)
    {
        foreach (int status in statuses) _answers.Enqueue(status);
    }

    public static async Task<PagerReceiver> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var receiver = new PagerReceiver(app);
        app.MapPost("/v2/enqueue", async (HttpContext context) =>
        {
            using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body);
            receiver.Requests.Enqueue(body.RootElement.Clone());
            receiver._first.TrySetResult();
            if (receiver.Down)
            {
                return Results.StatusCode(500);
            }

            if (receiver._answers.TryDequeue(out int status))
            {
                if (status == 429)
                {
                    context.Response.Headers.RetryAfter = "1"; // a second, which the pager caps at its MaxRetryDelay
                }

                return Results.StatusCode(status);
            }

            lock (receiver.Accepted)
            {
                receiver.Accepted.Add(body.RootElement.Clone());
            }

            return Results.Json(new { status = "success", message = "Event processed" }, statusCode: (int)HttpStatusCode.Accepted);
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v2/enqueue";
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
