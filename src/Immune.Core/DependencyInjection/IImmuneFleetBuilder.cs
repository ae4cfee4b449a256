namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the watching side of a fleet — the <see cref="Immune.ImmuneFleetView"/>, the broker feeds that keep it
/// current, paging — in an <see cref="IServiceCollection"/>. <c>AddImmuneFleet()</c> (Immune.Fleet.AspNetCore) returns
/// one; the broker packages add their consumer side to it (<c>.AddRedisStreams(…)</c>, <c>.AddNatsJetStream(…)</c>).
/// </summary>
public interface IImmuneFleetBuilder
{
    /// <summary>Gets the services being configured.</summary>
    IServiceCollection Services { get; }
}
