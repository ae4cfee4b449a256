using Immune.Tests.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests;

public sealed class ImmuneServiceCollectionExtensionsTests
{
    [Fact]
    public void AddImmune_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection();

        services.AddImmune();
        services.AddImmune(o => o.QueueCapacity = 5);

        services.Count(d => d.ServiceType == typeof(ImmuneService)).ShouldBe(1);
        services.Count(d => d.ServiceType == typeof(IImmuneService)).ShouldBe(1);
        services.ShouldAllBe(d => d.Lifetime == ServiceLifetime.Singleton);
    }

    [Fact]
    public async Task AddImmune_ResolvesOneSingletonBehindBothTypes()
    {
        await using ServiceProvider provider = new ServiceCollection().AddImmune().BuildServiceProvider();

        ImmuneService service = provider.GetRequiredService<ImmuneService>();

        provider.GetRequiredService<IImmuneService>().ShouldBeSameAs(service);
        provider.GetRequiredService<ImmuneService>().ShouldBeSameAs(service);
    }

    [Fact]
    public async Task AddImmune_UsesStreamTimeProviderAndOptionsFromTheContainer()
    {
        var stream = new InMemoryEventStream();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<IEventStream>(stream)
            .AddSingleton<TimeProvider>(time)
            .AddImmune(o => o.Source = "first")
            .AddImmune(o => o.Source += "+second")
            .BuildServiceProvider();
        ImmuneService service = provider.GetRequiredService<ImmuneService>();

        await service.PublishAsync(Events.Info());
        await service.Flushed();

        EventEnvelope envelope = stream.Envelopes.ShouldHaveSingleItem();
        envelope.Timestamp.ShouldBe(time.GetUtcNow());
        envelope.Source.ShouldBe("first+second");
    }

    [Fact]
    public async Task AddImmune_WithoutStream_RecordsAndLogsOnceThroughTheContainersLogger()
    {
        var logger = new FakeLogger<ImmuneService>();
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<ILogger<ImmuneService>>(logger)
            .AddImmune()
            .BuildServiceProvider();
        IImmuneService service = provider.GetRequiredService<IImmuneService>();

        await service.PublishAsync(Events.Critical());
        await service.PublishAsync(Events.Critical());

        service.GetHealthSummary().CriticalIssues.ShouldBe(2);
        logger.WithName("NoEventStream").ShouldHaveSingleItem();
    }

    [Fact]
    public void AddImmune_InvalidOptions_ThrowsAtRegistrationNamingEachOption()
    {
        var services = new ServiceCollection();

        var exception = Should.Throw<ArgumentException>(() => services.AddImmune(o =>
        {
            o.QueueCapacity = -1;
            o.DeliveryAttempts = 0;
            o.DeliveryTimeout = TimeSpan.Zero;
            o.MaxRetryDelay = TimeSpan.Zero;
        }));

        exception.Message.ShouldContain("QueueCapacity must be from 1 to 100,000,000 (was -1).");
        exception.Message.ShouldContain("DeliveryAttempts must be from 1 to 2,147,483,647 (was 0).");
        exception.Message.ShouldContain("DeliveryTimeout must be from 00:00:00.0000001 to 24.20:31:23.6470000, or Timeout.InfiniteTimeSpan (was 00:00:00).");
        exception.Message.ShouldContain("MaxRetryDelay must be from 00:00:00.0000001 to 01:00:00 (was 00:00:00).");
    }

    [Fact]
    public async Task AddImmune_ContainerDisposed_DisposesTheServiceWhichDrains()
    {
        var stream = new InMemoryEventStream();
        ServiceProvider provider = new ServiceCollection().AddSingleton<IEventStream>(stream).AddImmune().BuildServiceProvider();
        ImmuneService service = provider.GetRequiredService<ImmuneService>();
        await service.PublishAsync(Events.Critical());

        await provider.DisposeAsync();

        stream.Envelopes.Count.ShouldBe(2);
        await Should.ThrowAsync<ObjectDisposedException>(async () => await service.PublishAsync(Events.Info()));
    }

    [Fact]
    public void AddImmune_NullArguments_Throw()
    {
        Should.Throw<ArgumentNullException>(() => ImmuneServiceCollectionExtensions.AddImmune(null!));
        Should.Throw<ArgumentNullException>(() => new ServiceCollection().AddImmune(null!));
    }
}
