using Immune;
using Immune.Nats;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Immune's NATS JetStream transport and its consumer side.</summary>
public static class NatsJetStreamServiceCollectionExtensions
{
    /// <summary>Registers the NATS JetStream transport with the default options: see <see cref="AddNatsJetStream(IServiceCollection, Action{NatsJetStreamOptions})"/>.</summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddNatsJetStream(this IServiceCollection services) => services.AddNatsJetStream(static _ => { });

    /// <summary>
    /// Registers <see cref="NatsJetStreamEventStream"/> as the <see cref="IEventStream"/> of the Immune service (and the
    /// service itself, with <c>AddImmune()</c>, when not registered yet). The stream is created before the first publish.
    /// </summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every invalid option.</exception>
    /// <remarks>
    /// With <see cref="NatsJetStreamOptions.Url"/> set, an <see cref="INatsConnection"/> to it is registered (unless one is
    /// registered already); without it, the container's <see cref="INatsConnection"/> is used. An <see cref="IEventStream"/>
    /// registered before is kept.
    /// </remarks>
    public static IServiceCollection AddNatsJetStream(this IServiceCollection services, Action<NatsJetStreamOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        NatsJetStreamOptions options = Configure(services, configure);
        services.TryAddSingleton<IEventStream>(provider => new NatsJetStreamEventStream(provider.GetRequiredService<INatsConnection>(), options, provider.GetService<TimeProvider>()));
        services.AddImmune();
        return services;
    }

    /// <summary>Adds the NATS consumer side to the fleet with the default options: see <see cref="AddNatsJetStream(IImmuneFleetBuilder, Action{NatsJetStreamOptions})"/>.</summary>
    /// <param name="fleet">The fleet being configured. Must not be null.</param>
    /// <returns><paramref name="fleet"/>, for chaining.</returns>
    public static IImmuneFleetBuilder AddNatsJetStream(this IImmuneFleetBuilder fleet) => fleet.AddNatsJetStream(static _ => { });

    /// <summary>
    /// Adds the NATS consumer side to the fleet: a <see cref="NatsFleetFeed"/> that keeps the fleet's view current, a
    /// <see cref="NatsConsumerGroup"/> consumer that pages on-call through <see cref="ImmunePaging"/> when a pager is
    /// registered (and dead-letters what is no envelope either way), and the group's <see cref="NatsPagerLedger"/>.
    /// </summary>
    /// <param name="fleet">The fleet being configured. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="fleet"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every invalid option.</exception>
    public static IImmuneFleetBuilder AddNatsJetStream(this IImmuneFleetBuilder fleet, Action<NatsJetStreamOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        IServiceCollection services = fleet.Services;
        NatsJetStreamOptions options = Configure(services, configure);
        services.TryAddSingleton<IImmunePagerLedger>(provider => new NatsPagerLedger(provider.GetRequiredService<INatsConnection>(), options, provider.GetService<TimeProvider>()));
        services.AddSingleton<ImmuneFeed>(provider => new NatsFleetFeed(
            provider.GetRequiredService<INatsConnection>(),
            provider.GetRequiredService<ImmuneFleetView>(),
            options,
            provider.GetService<ILogger<NatsFleetFeed>>(),
            provider.GetService<TimeProvider>()));
        services.AddSingleton<ImmuneFeed>(provider => new NatsConsumerGroup(
            provider.GetRequiredService<INatsConnection>(),
            provider.GetService<ImmunePaging>(),
            options,
            provider.GetService<ILogger<NatsConsumerGroup>>(),
            provider.GetService<TimeProvider>()));
        return fleet;
    }

    private static NatsJetStreamOptions Configure(IServiceCollection services, Action<NatsJetStreamOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new NatsJetStreamOptions();
        configure(options);
        options.Validated();
        if (options.Url is { } url)
        {
            services.TryAddSingleton<INatsConnection>(_ => new NatsConnection(NatsOpts.Default with { Url = url, Name = "immune" }));
        }

        return options.Clone();
    }
}
