using Immune;
using Immune.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Immune's Redis Streams transport and its consumer side.</summary>
public static class RedisStreamsServiceCollectionExtensions
{
    /// <summary>Registers the Redis Streams transport with the default options: see <see cref="AddRedisStreams(IServiceCollection, Action{RedisStreamsOptions})"/>.</summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddRedisStreams(this IServiceCollection services) => services.AddRedisStreams(static _ => { });

    /// <summary>
    /// Registers <see cref="RedisStreamsEventStream"/> as the <see cref="IEventStream"/> of the Immune service (and the
    /// service itself, with <c>AddImmune()</c>, when not registered yet).
    /// </summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every invalid option.</exception>
    /// <remarks>
    /// With <see cref="RedisStreamsOptions.ConnectionString"/> set, an <see cref="IConnectionMultiplexer"/> that fails
    /// fast while Redis is down is registered (unless one is registered already); without it, the container's
    /// <see cref="IConnectionMultiplexer"/> is used. An <see cref="IEventStream"/> registered before is kept.
    /// </remarks>
    public static IServiceCollection AddRedisStreams(this IServiceCollection services, Action<RedisStreamsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        RedisStreamsOptions options = Configure(services, configure);
        services.TryAddSingleton<IEventStream>(provider => new RedisStreamsEventStream(provider.GetRequiredService<IConnectionMultiplexer>(), options, provider.GetService<TimeProvider>()));
        services.AddImmune();
        return services;
    }

    /// <summary>Adds the Redis consumer side to the fleet with the default options: see <see cref="AddRedisStreams(IImmuneFleetBuilder, Action{RedisStreamsOptions})"/>.</summary>
    /// <param name="fleet">The fleet being configured. Must not be null.</param>
    /// <returns><paramref name="fleet"/>, for chaining.</returns>
    public static IImmuneFleetBuilder AddRedisStreams(this IImmuneFleetBuilder fleet) => fleet.AddRedisStreams(static _ => { });

    /// <summary>
    /// Adds the Redis consumer side to the fleet: a <see cref="RedisFleetFeed"/> that keeps the fleet's view current, a
    /// <see cref="RedisConsumerGroup"/> consumer that pages on-call through <see cref="ImmunePaging"/> when a pager is
    /// registered (and dead-letters what is no envelope either way), and the group's <see cref="RedisPagerLedger"/>.
    /// </summary>
    /// <param name="fleet">The fleet being configured. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="fleet"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every invalid option.</exception>
    /// <remarks>The connection is found as for <see cref="AddRedisStreams(IServiceCollection, Action{RedisStreamsOptions})"/>.</remarks>
    public static IImmuneFleetBuilder AddRedisStreams(this IImmuneFleetBuilder fleet, Action<RedisStreamsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        IServiceCollection services = fleet.Services;
        RedisStreamsOptions options = Configure(services, configure);
        services.TryAddSingleton<IImmunePagerLedger>(provider => new RedisPagerLedger(provider.GetRequiredService<IConnectionMultiplexer>(), options, provider.GetService<TimeProvider>()));
        services.AddSingleton<ImmuneFeed>(provider => new RedisFleetFeed(
            provider.GetRequiredService<IConnectionMultiplexer>(),
            provider.GetRequiredService<ImmuneFleetView>(),
            options,
            provider.GetService<ILogger<RedisFleetFeed>>(),
            provider.GetService<TimeProvider>()));
        services.AddSingleton<ImmuneFeed>(provider => new RedisConsumerGroup(
            provider.GetRequiredService<IConnectionMultiplexer>(),
            provider.GetService<ImmunePaging>(),
            options,
            provider.GetService<ILogger<RedisConsumerGroup>>(),
            provider.GetService<TimeProvider>()));
        return fleet;
    }

    private static RedisStreamsOptions Configure(IServiceCollection services, Action<RedisStreamsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new RedisStreamsOptions();
        configure(options);
        options.Validated();
        if (options.ConnectionString is { } connectionString)
        {
            services.TryAddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(RedisStreamsOptions.ConnectionOptions(connectionString)));
        }

        return options.Clone();
    }
}
