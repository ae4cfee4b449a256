using Microsoft.Extensions.DependencyInjection;

namespace Immune.Fleet.AspNetCore;

/// <summary>What <c>AddImmuneFleet()</c> returns: the services, for the broker packages' <c>.AddRedisStreams(…)</c> and <c>.AddNatsJetStream(…)</c>.</summary>
internal sealed class FleetBuilder(IServiceCollection services) : IImmuneFleetBuilder
{
    public IServiceCollection Services { get; } = services;
}
