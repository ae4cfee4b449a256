using Immune;
using Immune.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Immune's health checks to an <see cref="IHealthChecksBuilder"/>.</summary>
public static class ImmuneHealthChecksBuilderExtensions
{
    /// <summary>Adds the service's health check with the default options: see <see cref="AddImmune(IHealthChecksBuilder, Action{ImmuneHealthCheckOptions})"/>.</summary>
    /// <param name="builder">The health checks. Must not be null.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IHealthChecksBuilder AddImmune(this IHealthChecksBuilder builder) => builder.AddImmune(static _ => { });

    /// <summary>
    /// Adds the health check of the container's <see cref="ImmuneService"/> (<c>services.AddImmune()</c>): Degraded with a
    /// WARNING event in the window or while the event stream has failed for longer than the threshold, Unhealthy with a
    /// CRITICAL event; the data carries the counts, the envelopes pending and since when the stream fails.
    /// </summary>
    /// <param name="builder">The health checks. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public static IHealthChecksBuilder AddImmune(this IHealthChecksBuilder builder, Action<ImmuneHealthCheckOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ImmuneHealthCheckOptions();
        configure(options);
        options.Validated();
        return builder.Add(new HealthCheckRegistration(
            options.Name,
            provider => new ImmuneHealthCheck(provider.GetRequiredService<ImmuneService>(), options, provider.GetService<TimeProvider>() ?? TimeProvider.System),
            failureStatus: null,
            tags: options.Tags));
    }

    /// <summary>Adds the fleet consumer's health check with the default options: see <see cref="AddImmuneFleet(IHealthChecksBuilder, Action{ImmuneFleetHealthCheckOptions})"/>.</summary>
    /// <param name="builder">The health checks. Must not be null.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IHealthChecksBuilder AddImmuneFleet(this IHealthChecksBuilder builder) => builder.AddImmuneFleet(static _ => { });

    /// <summary>
    /// Adds the health check of a fleet consumer: every <see cref="ImmuneFeed"/> in the container and its
    /// <see cref="ImmunePaging"/>. Degraded when a feed has not read its broker for longer than
    /// <see cref="ImmuneFleetHealthCheckOptions.StaleAfter"/>, is far behind or lost entries, or when the pager fails;
    /// Unhealthy when no feed has read at all. It answers from memory, at once, even while the broker is down.
    /// </summary>
    /// <param name="builder">The health checks. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names every invalid option.</exception>
    public static IHealthChecksBuilder AddImmuneFleet(this IHealthChecksBuilder builder, Action<ImmuneFleetHealthCheckOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ImmuneFleetHealthCheckOptions();
        configure(options);
        options.Validated();
        return builder.Add(new HealthCheckRegistration(
            options.Name,
            provider => new ImmuneFleetHealthCheck(provider.GetServices<ImmuneFeed>(), provider.GetService<ImmunePaging>(), options, provider.GetService<TimeProvider>() ?? TimeProvider.System),
            failureStatus: null,
            tags: options.Tags));
    }
}
