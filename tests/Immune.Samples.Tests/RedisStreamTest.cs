using Immune.Redis;
using Immune.Samples.Consumer;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

/// <summary>A test on the shared <c>redis-server</c> with a stream key of its own and a connection of its own.</summary>
public abstract class RedisStreamTest(RedisFixture redis) : IAsyncLifetime
{
    protected static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    /// <summary>Gets this test's stream key.</summary>
    protected string StreamKey { get; } = $"immune:events:{Guid.NewGuid():N}";

    protected ConnectionMultiplexer Connection { get; private set; } = null!;

    protected RedisServer Server => redis.Server;

    /// <summary>A producer service of <paramref name="source"/> writing this test's stream, as the API sample wires one.</summary>
    protected ImmuneService Producer(string source)
        => new(new RedisStreamsEventStream(Connection, new RedisStreamsOptions { StreamKey = StreamKey }), new ImmuneOptions { Source = source });

    /// <summary>
    /// The consumer sample on this test's stream, with a consumer name of its own, on a real Kestrel port when
    /// <paramref name="kestrel"/> (for a browser), else in memory. Settings are configuration keys and values.
    /// </summary>
    protected WebApplicationFactory<PagerDutyPager> ConsumerHost(bool kestrel = false, params (string Key, string Value)[] settings)
    {
        WebApplicationFactory<PagerDutyPager> host = new WebApplicationFactory<PagerDutyPager>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:Redis", Server.ConnectionString)
                .UseSetting("Immune:Redis:StreamKey", StreamKey)
                .UseSetting("Immune:Redis:DeadLetterKey", StreamKey + ":dead")
                .UseSetting("Immune:Redis:ConsumerName", $"c-{Guid.NewGuid():N}")
                .UseSetting("Immune:Redis:PollInterval", "00:00:00.050");
            foreach ((string key, string value) in settings)
            {
                web.UseSetting(key, value);
            }
        });
        if (kestrel)
        {
            host.UseKestrel(0);
            host.StartServer();
        }

        return host;
    }

    /// <summary>The address a host started with <c>kestrel: true</c> listens on.</summary>
    protected static string Address(WebApplicationFactory<PagerDutyPager> host)
        => host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public virtual async Task InitializeAsync()
        => Connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(redis.Server.ConnectionString));

    public virtual async Task DisposeAsync() => await Connection.DisposeAsync();
}
