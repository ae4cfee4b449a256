using System.Diagnostics.Metrics;
using Immune;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Immune in an <see cref="IServiceCollection"/>.</summary>
public static class ImmuneServiceCollectionExtensions
{
    /// <summary>Registers one <see cref="ImmuneService"/> singleton behind both <see cref="ImmuneService"/> and <see cref="IImmuneService"/>, with default options.</summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>See <see cref="AddImmune(IServiceCollection, Action{ImmuneOptions})"/>.</remarks>
    public static IServiceCollection AddImmune(this IServiceCollection services) => services.AddImmune(static _ => { });

    /// <summary>Registers one <see cref="ImmuneService"/> singleton behind both <see cref="ImmuneService"/> and <see cref="IImmuneService"/>.</summary>
    /// <param name="services">The services. Must not be null.</param>
    /// <param name="configure">Sets the options. Must not be null. Runs now, so invalid options fail here.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every invalid option.</exception>
    /// <remarks>
    /// <para>
    /// Idempotent: the registrations use <c>TryAdd</c>, so calling it again registers nothing more; each call's
    /// <paramref name="configure"/> applies, in order, to the same options.
    /// </para>
    /// <para>
    /// The service uses the container's <see cref="IEventStream"/>, <see cref="ILogger{TCategoryName}"/>,
    /// <see cref="TimeProvider"/> and <see cref="IMeterFactory"/> when they are registered. Without an
    /// <see cref="IEventStream"/>, events are recorded and summarized but not published, and that is logged once.
    /// Disposing the container disposes the service, which drains its queue.
    /// </para>
    /// </remarks>
    public static IServiceCollection AddImmune(this IServiceCollection services, Action<ImmuneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        ImmuneOptions options = OptionsOf(services);
        configure(options);
        options.Validate();

        services.TryAddSingleton(provider => new ImmuneService(
            provider.GetService<IEventStream>(),
            options,
            provider.GetService<ILogger<ImmuneService>>(),
            provider.GetService<TimeProvider>(),
            provider.GetService<IMeterFactory>()));
        services.TryAddSingleton<IImmuneService>(static provider => provider.GetRequiredService<ImmuneService>());
        return services;
    }

    private static ImmuneOptions OptionsOf(IServiceCollection services)
    {
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(ImmuneOptionsRegistration) && descriptor.ImplementationInstance is ImmuneOptionsRegistration registration)
            {
                return registration.Options;
            }
        }

        var added = new ImmuneOptionsRegistration();
        services.AddSingleton(added);
        return added.Options;
    }

    /// <summary>Carries the options between calls to <c>AddImmune</c> on one collection.</summary>
    private sealed class ImmuneOptionsRegistration
    {
        public ImmuneOptions Options { get; } = new();
    }
}
