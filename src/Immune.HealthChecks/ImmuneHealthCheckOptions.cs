using Immune.Internal;

namespace Immune.HealthChecks;

/// <summary>
/// How <c>AddImmune()</c> judges a service's health: the window of events it looks at, and how long the event stream may
/// fail before the service reports Degraded. Validated when the check is registered.
/// </summary>
public sealed class ImmuneHealthCheckOptions
{
    /// <summary>Gets or sets the check's name in the health report.</summary>
    /// <value>The default value is <c>immune</c>.</value>
    public string Name { get; set; } = "immune";

    /// <summary>Gets or sets the tags of the check, for filtering probes (<c>MapHealthChecks("/ready", …)</c>).</summary>
    /// <value>The default value is empty.</value>
    public IList<string> Tags { get; } = [];

    /// <summary>
    /// Gets or sets the window of recorded events the check looks at: long enough to span a scrape interval, short enough to
    /// recover after an incident. Greater than zero, at most a day.
    /// </summary>
    /// <value>The default value is 15 minutes.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Gets or sets how long the event stream may fail before the check reports Degraded. A broker restart or failover
    /// takes seconds and the service rides it out without losing anything; an outage that outlasts two scrape intervals
    /// is one the people watching should see, well before envelopes run out of their delivery timeout. Zero or more, at
    /// most a day.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan StreamFailingThreshold { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets whether a CRITICAL event in the window makes the service Unhealthy (HTTP 503 from
    /// <c>MapHealthChecks</c>); otherwise it is Degraded. Leave it off for liveness probes, which must not restart a
    /// service for what it reports.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool CriticalIsUnhealthy { get; set; } = true;

    internal ImmuneHealthCheckOptions Validated()
    {
        var problems = new OptionsProblems(nameof(ImmuneHealthCheckOptions));
        if (string.IsNullOrWhiteSpace(Name)) problems.Add("Name must not be null, empty or whitespace.");
        problems.Range(nameof(Window), Window, TimeSpan.FromTicks(1), TimeSpan.FromDays(1));
        problems.Range(nameof(StreamFailingThreshold), StreamFailingThreshold, TimeSpan.Zero, TimeSpan.FromDays(1));
        problems.ThrowIfAny();
        return this;
    }
}
