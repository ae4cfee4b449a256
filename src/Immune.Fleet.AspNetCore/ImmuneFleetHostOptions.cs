using Immune.Internal;

namespace Immune.Fleet.AspNetCore;

/// <summary>
/// How a fleet host keeps and shows the fleet: the view's bounds, and how much its JSON, its page and its metrics list at
/// most, whatever the fleet's size. Validated when <c>AddImmuneFleet()</c> runs. Bind it from configuration with
/// <c>builder.Configuration.GetSection("Immune:Fleet").Bind(options)</c>.
/// </summary>
public sealed class ImmuneFleetHostOptions
{
    /// <summary>Gets or sets how many events the view counts (<see cref="ImmuneFleetOptions.RetentionCapacity"/>). From 1 to 10,000,000.</summary>
    /// <value>The default value is 100,000.</value>
    public int RetentionCapacity { get; set; } = 100_000;

    /// <summary>Gets or sets how many open incidents the view keeps (<see cref="ImmuneFleetOptions.IncidentCapacity"/>). From 1 to 10,000,000.</summary>
    /// <value>The default value is 100,000.</value>
    public int IncidentCapacity { get; set; } = 100_000;

    /// <summary>Gets or sets how many sources the health JSON and the page list at most, the worst first; the rest are counted. From 1 to 10,000.</summary>
    /// <value>The default value is 50.</value>
    public int MaxSources { get; set; } = 50;

    /// <summary>Gets or sets how many sources get series of their own on the <c>Immune.Fleet</c> meter, the worst first; the totals count all. From 0 to 10,000.</summary>
    /// <value>The default value is 100.</value>
    public int MetricSources { get; set; } = 100;

    /// <summary>Gets or sets how long a feed may go without reading its broker before the host reports that what it shows is not live. From 1 second to a day.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the window the page and the metrics summarize, in minutes. From 1 to 1,440.</summary>
    /// <value>The default value is 60.</value>
    public int WindowMinutes { get; set; } = 60;

    internal ImmuneFleetHostOptions Clone() => (ImmuneFleetHostOptions)MemberwiseClone();

    internal ImmuneFleetHostOptions Validated()
    {
        var problems = new OptionsProblems(nameof(ImmuneFleetHostOptions));
        problems.Range(nameof(RetentionCapacity), RetentionCapacity, 1, 10_000_000);
        problems.Range(nameof(IncidentCapacity), IncidentCapacity, 1, 10_000_000);
        problems.Range(nameof(MaxSources), MaxSources, 1, 10_000);
        problems.Range(nameof(MetricSources), MetricSources, 0, 10_000);
        problems.Range(nameof(StaleAfter), StaleAfter, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        problems.Range(nameof(WindowMinutes), WindowMinutes, 1, 1440);
        problems.ThrowIfAny();
        return this;
    }
}
