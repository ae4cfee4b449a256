using System.Diagnostics.CodeAnalysis;
using Immune;
using Immune.Fleet.AspNetCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the watching side of an Immune fleet in an ASP.NET Core host.</summary>
public static class ImmuneFleetServiceCollectionExtensions
{
    /// <summary>Registers the fleet host with the default options: see <see cref="AddImmuneFleet(IServiceCollection, Action{ImmuneFleetHostOptions})"/>.</summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <returns>The fleet, for a broker's <c>.AddRedisStreams(…)</c> or <c>.AddNatsJetStream(…)</c> and <c>.AddPager&lt;T&gt;()</c>.</returns>
    public static IImmuneFleetBuilder AddImmuneFleet(this IServiceCollection services) => services.AddImmuneFleet(static _ => { });

    /// <summary>
    /// Registers the fleet host: one <see cref="ImmuneFleetView"/>, a hosted service that runs every broker feed registered
    /// (they keep the view current and page on-call, and never stop on an exception), the <c>immune-fleet</c> health check
    /// (Degraded when a feed has not read its broker for <see cref="ImmuneFleetHostOptions.StaleAfter"/>, is far behind or
    /// lost entries, or the pager fails), and the <c>Immune.Fleet</c> meter. Map its routes with <c>app.MapImmuneFleet()</c>.
    /// </summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns>The fleet, for a broker's <c>.AddRedisStreams(…)</c> or <c>.AddNatsJetStream(…)</c> and <c>.AddPager&lt;T&gt;()</c>.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    /// <remarks>Idempotent: calling it again registers nothing more (the first call's options stay).</remarks>
    public static IImmuneFleetBuilder AddImmuneFleet(this IServiceCollection services, Action<ImmuneFleetHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ImmuneFleetHostOptions();
        configure(options);
        options.Validated();
        if (services.Any(d => d.ServiceType == typeof(FleetHost)))
        {
            return new FleetBuilder(services);
        }

        services.AddSingleton(options.Clone());
        var routes = new FleetRoutes();
        services.AddSingleton(routes);
        services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(routes);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new ImmuneFleetView(
            new ImmuneFleetOptions { RetentionCapacity = options.RetentionCapacity, IncidentCapacity = options.IncidentCapacity },
            provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new FleetFreshness(provider.GetServices<ImmuneFeed>(), provider.GetRequiredService<ImmuneFleetHostOptions>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new FleetHost(
            provider.GetRequiredService<ImmuneFleetView>(), provider.GetRequiredService<ImmuneFleetHostOptions>(), provider.GetRequiredService<FleetFreshness>(), provider.GetService<ImmunePaging>()));
        services.AddMetrics();
        services.AddSingleton(provider => new FleetMetrics(
            provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), provider.GetRequiredService<ImmuneFleetView>(), provider.GetRequiredService<ImmuneFleetHostOptions>(),
            provider.GetRequiredService<FleetFreshness>(), provider.GetRequiredService<TimeProvider>(), provider.GetService<ImmunePaging>()));
        services.AddHostedService(provider =>
        {
            _ = provider.GetRequiredService<FleetMetrics>(); // the meter exists from the start, for the first scrape
            return new FeedRunner(provider.GetServices<ImmuneFeed>());
        });
        services.AddHealthChecks().AddImmuneFleet(o => o.StaleAfter = options.StaleAfter);
        return new FleetBuilder(services);
    }

    /// <summary>
    /// Turns paging on: the broker's consumer group hands each envelope to <see cref="ImmunePaging"/>, which pages on-call
    /// through <typeparamref name="TPager"/> once per escalation and resolves the page when the event drops from CRITICAL,
    /// deduplicated through the broker's ledger (or, without a broker's, one kept in this process).
    /// </summary>
    /// <typeparam name="TPager">The pager: an adapter to PagerDuty, Opsgenie, a webhook… Made by the container.</typeparam>
    /// <param name="fleet">The fleet. Must not be null.</param>
    /// <returns><paramref name="fleet"/>, for chaining.</returns>
    public static IImmuneFleetBuilder AddPager<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TPager>(this IImmuneFleetBuilder fleet)
        where TPager : class, IImmunePager
    {
        ArgumentNullException.ThrowIfNull(fleet);
        fleet.Services.TryAddSingleton<IImmunePager, TPager>();
        // The broker's ledger wherever AddPager comes in the chain; one in this process only without a broker's.
        fleet.Services.TryAddSingleton(provider => new ImmunePaging(
            provider.GetRequiredService<IImmunePager>(),
            provider.GetService<IImmunePagerLedger>() ?? new InMemoryPagerLedger(),
            provider.GetService<ILogger<ImmunePaging>>(),
            provider.GetService<TimeProvider>()));
        return fleet;
    }
}
