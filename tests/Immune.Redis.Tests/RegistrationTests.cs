using Immune.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary>The registrations: <c>services.AddRedisStreams(…)</c> for producers, <c>fleet.AddRedisStreams(…)</c> for the consumer side.</summary>
[Collection(nameof(RedisCollection))]
public sealed class RegistrationTests(RedisFixture redis) : RedisStreamTest(redis)
{
    private sealed class Fleet(IServiceCollection services) : IImmuneFleetBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    [Fact]
    public async Task AddRedisStreams_WithAConnectionString_TheServicePublishesToTheStream()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddImmune(o => o.Source = "checkout")
            .AddRedisStreams(o => { o.ConnectionString = Server.ConnectionString; o.StreamKey = StreamKey; })
            .BuildServiceProvider();
        ImmuneService service = provider.GetRequiredService<ImmuneService>();

        await service.PublishAsync(Critical("registered"));
        await service.FlushAsync().WaitAsync(HangGuard);

        provider.GetRequiredService<IEventStream>().ShouldBeOfType<RedisStreamsEventStream>();
        (await Db.StreamLengthAsync(StreamKey)).ShouldBe(2);
    }

    [Fact]
    public async Task AddRedisStreams_WithoutAConnectionString_UsesTheContainersMultiplexer_AndRegistersTheServiceToo()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(Connection)
            .AddRedisStreams(o => o.StreamKey = StreamKey)
            .BuildServiceProvider();

        long id = await provider.GetRequiredService<IImmuneService>().PublishAsync(Info("no AddImmune needed"));
        await provider.GetRequiredService<ImmuneService>().FlushAsync().WaitAsync(HangGuard);

        id.ShouldBe(1);
        (await Db.StreamLengthAsync(StreamKey)).ShouldBe(1);
    }

    [Fact]
    public void AddRedisStreams_InvalidOptions_FailAtRegistrationNamingEachOne()
    {
        var exception = Should.Throw<ArgumentException>(() => new ServiceCollection().AddRedisStreams(o => { o.StreamKey = ""; o.PollInterval = TimeSpan.Zero; }));

        exception.Message.ShouldStartWith("Invalid RedisStreamsOptions:");
        exception.Message.ShouldContain("StreamKey");
        exception.Message.ShouldContain("PollInterval");
        Should.Throw<ArgumentException>(() => new Fleet(new ServiceCollection()).AddRedisStreams(o => o.BatchSize = -1)).Message.ShouldContain("BatchSize");
    }

    [Fact]
    public async Task FleetAddRedisStreams_RegistersTheFeedTheGroupAndTheLedger_ThePagerFromTheContainerPages()
    {
        var pager = new RecordingPager();
        var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(Connection)
            .AddSingleton(new ImmuneFleetView())
            .AddSingleton<IImmunePager>(pager);
        services.AddSingleton(sp => new ImmunePaging(sp.GetRequiredService<IImmunePager>(), sp.GetRequiredService<IImmunePagerLedger>()));
        new Fleet(services).AddRedisStreams(o => { o.StreamKey = StreamKey; o.DeadLetterKey = StreamKey + ":dead"; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        string instance = await PublishAsync(Critical("paged"));

        ImmuneFeed[] feeds = [.. provider.GetServices<ImmuneFeed>()];
        feeds.Select(f => f.GetType()).ShouldBe([typeof(RedisFleetFeed), typeof(RedisConsumerGroup)]);
        foreach (ImmuneFeed feed in feeds)
        {
            while (await feed.ReadOnceAsync() > 0)
            {
            }
        }

        provider.GetRequiredService<IImmunePagerLedger>().ShouldBeOfType<RedisPagerLedger>();
        provider.GetRequiredService<ImmuneFleetView>().GetIncidents().ShouldHaveSingleItem().Message.ShouldBe("paged");
        pager.Sent.ShouldHaveSingleItem().Key.ShouldBe(PageKey(instance, 1));
    }
}
