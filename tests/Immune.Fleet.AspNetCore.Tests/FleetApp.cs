using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Immune.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>
/// A fleet host as a user writes one (<c>AddImmuneFleet()</c>, <c>MapImmuneFleet()</c>) on a real Kestrel port of
/// 127.0.0.1, with a told feed and a fake clock: envelopes go into its view as a broker feed would put them.
/// </summary>
internal sealed class FleetApp : IAsyncDisposable
{
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);
    public static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    private FleetApp(WebApplication app, FakeTimeProvider time, ToldFeed feed)
    {
        App = app;
        Time = time;
        Feed = feed;
        Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(Address), Timeout = HangGuard };
    }

    public WebApplication App { get; }

    public FakeTimeProvider Time { get; }

    public ToldFeed Feed { get; }

    public string Address { get; }

    public HttpClient Client { get; }

    public ImmuneFleetView View => App.Services.GetRequiredService<ImmuneFleetView>();

    /// <summary>Starts a host; it has read its feed once when this returns.</summary>
    public static async Task<FleetApp> StartAsync(
        Action<ImmuneFleetHostOptions>? options = null,
        Action<WebApplicationBuilder>? build = null,
        Action<WebApplication>? map = null)
    {
        var time = new FakeTimeProvider(Start);
        var feed = new ToldFeed(time);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton<ImmuneFeed>(feed);
        builder.Services.AddImmuneFleet(options ?? (static _ => { }));
        build?.Invoke(builder);
        WebApplication app = builder.Build();
        if (map is null)
        {
            app.MapImmuneFleet();
        }
        else
        {
            map(app);
        }

        Task firstRead = feed.NextRead;
        await app.StartAsync().WaitAsync(HangGuard);
        await firstRead.WaitAsync(HangGuard);
        return new FleetApp(app, time, feed);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await Client.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.ShouldBeTrue($"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Applies what a producer service with this source publishes for a new event, as a broker feed would.</summary>
    public void Publish(string source, long eventId, ImmuneSeverity severity, string message = "m", DateTimeOffset? at = null, string? instance = "i-1")
    {
        foreach (EventEnvelope envelope in Envelopes.Of(source, instance, eventId, severity, at ?? Time.GetUtcNow(), message))
        {
            View.Apply(envelope);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync().WaitAsync(HangGuard);
        await App.DisposeAsync();
    }
}
