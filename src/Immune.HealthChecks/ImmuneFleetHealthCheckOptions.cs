using Immune.Internal;

namespace Immune.HealthChecks;

/// <summary>How <c>AddImmuneFleet()</c> judges a fleet consumer's health. Validated when the check is registered.</summary>
public sealed class ImmuneFleetHealthCheckOptions
{
    /// <summary>Gets or sets the check's name in the health report.</summary>
    /// <value>The default value is <c>immune-fleet</c>.</value>
    public string Name { get; set; } = "immune-fleet";

    /// <summary>Gets or sets the tags of the check, for filtering probes.</summary>
    /// <value>The default value is empty.</value>
    public IList<string> Tags { get; } = [];

    /// <summary>
    /// Gets or sets how long a feed may go without a successful read of its broker before the consumer reports Degraded:
    /// what it shows is no longer live. From 1 second to a day.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many entries a feed may be behind its broker before the consumer reports Degraded. At least 1.</summary>
    /// <value>The default value is 10,000.</value>
    public long LagThreshold { get; set; } = 10_000;

    internal ImmuneFleetHealthCheckOptions Validated()
    {
        var problems = new OptionsProblems(nameof(ImmuneFleetHealthCheckOptions));
        if (string.IsNullOrWhiteSpace(Name)) problems.Add("Name must not be null, empty or whitespace.");
        problems.Range(nameof(StaleAfter), StaleAfter, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        problems.Range(nameof(LagThreshold), LagThreshold, 1, long.MaxValue);
        problems.ThrowIfAny();
        return this;
    }
}
