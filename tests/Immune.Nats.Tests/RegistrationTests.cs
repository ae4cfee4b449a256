using Immune.Testing;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;

namespace Immune.Nats.Tests;

/// <summary>The registrations: <c>services.AddNatsJetStream(…)</c> for producers, <c>fleet.AddNatsJetStream(…)</c> for the consumer side.</summary>
public sealed class RegistrationTests : NatsTest
{
    private sealed class Fleet(IServiceCollection services) : IImmuneFleetBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    [Fact]
    public async Task AddNatsJetStream_WithAUrl_TheServicePublishesToTheStreamItMade()
    {
        NatsJetStreamOptions options = Options();
        await using ServiceProvider provider = new ServiceCollection()
            .AddImmune(o => o.Source = "checkout")
            .AddNatsJetStream(o => { o.Url = Server.Url; o.StreamName = options.StreamName; o.SubjectPrefix = options.SubjectPrefix; })
            .BuildServiceProvider();
        ImmuneService service = provider.GetRequiredService<ImmuneService>();

        await service.PublishAsync(Critical("registered"));
        await service.FlushAsync().WaitAsync(HangGuard);

        provider.GetRequiredService<IEventStream>().ShouldBeOfType<NatsJetStreamEventStream>();
        (await ReadAllAsync()).Count.ShouldBe(2);
    }

    [Fact]
    public void AddNatsJetStream_InvalidOptions_FailAtRegistrationNamingEachOne()
    {
        var exception = Should.Throw<ArgumentException>(() => new ServiceCollection().AddNatsJetStream(o => { o.StreamName = "a.b"; o.Replicas = 2; o.Url = "not a url"; }));

        exception.Message.ShouldStartWith("Invalid NatsJetStreamOptions:");
        foreach (string name in new[] { "StreamName", "Replicas", "Url" })
        {
            exception.Message.ShouldContain(name);
        }
    }

    [Theory]
    [InlineData("nats://a:4222,nats://b:4222,nats://c:4222", true)]
    [InlineData("nats://a:4222, nats://b:4222", true)]
    [InlineData("nats://a:4222,", false)]
    [InlineData("nats://a:4222,not a url", false)]
    public void Url_ACluster_IsUrlsSeparatedByCommas_EachOneAbsolute(string url, bool valid)
    {
        Action register = () => new ServiceCollection().AddNatsJetStream(o => o.Url = url);
        if (valid)
        {
            register();
        }
        else
        {
            Should.Throw<ArgumentException>(register).Message.ShouldContain("Url");
        }
    }

    [Fact]
    public async Task FleetAddNatsJetStream_RegistersTheFeedTheGroupAndTheLedger_ThePagerFromTheContainerPages()
    {
        var pager = new RecordingPager();
        var services = new ServiceCollection()
            .AddSingleton<INatsConnection>(Connection)
            .AddSingleton(new ImmuneFleetView())
            .AddSingleton<IImmunePager>(pager);
        services.AddSingleton(sp => new ImmunePaging(sp.GetRequiredService<IImmunePager>(), sp.GetRequiredService<IImmunePagerLedger>()));
        NatsJetStreamOptions options = Options();
        new Fleet(services).AddNatsJetStream(o => { o.StreamName = options.StreamName; o.SubjectPrefix = options.SubjectPrefix; o.DeadLetterSubject = options.DeadLetterSubject; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        string instance = await ProduceAsync("checkout", service => service.PublishAsync(Critical("paged")).AsTask());

        ImmuneFeed[] feeds = [.. provider.GetServices<ImmuneFeed>()];
        feeds.Select(f => f.GetType()).ShouldBe([typeof(NatsFleetFeed), typeof(NatsConsumerGroup)]);
        foreach (ImmuneFeed feed in feeds)
        {
            while (await feed.ReadOnceAsync() > 0)
            {
            }
        }

        provider.GetRequiredService<IImmunePagerLedger>().ShouldBeOfType<NatsPagerLedger>();
        provider.GetRequiredService<ImmuneFleetView>().GetIncidents().ShouldHaveSingleItem().Message.ShouldBe("paged");
        pager.Sent.ShouldHaveSingleItem().Key.ShouldBe($"immune_critical_checkout_{instance}_1");
    }
}
