using System.Diagnostics.Metrics;

namespace Immune.Samples.Consumer;

/// <summary>
/// The consumer's meter, <c>Immune.Samples.Consumer</c>, scraped at <c>/metrics</c>: the fleet as the consumer's view
/// sees it over <see cref="Window"/> (gauges per source, and open incidents per source and severity) and the consumer's
/// own work (envelopes handled, pages sent, entries dead-lettered). Series names are in EVENTS.md.
/// </summary>
public sealed class ConsumerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Immune.Samples.Consumer";

    private static readonly HashSet<string> KnownTypes =
        [ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.SeverityChanged, ImmuneEventTypes.EventRepeated];

    private readonly Meter _meter;
    private readonly Counter<long> _handled;
    private readonly Counter<long> _pages;
    private readonly Counter<long> _deadLettered;

    public ConsumerMetrics(ImmuneFleetView fleet, IMeterFactory meters, TimeSpan? window = null)
    {
        Window = window ?? TimeSpan.FromHours(1);
        _meter = meters.Create(MeterName);
        _handled = _meter.CreateCounter<long>("immune.consumer.envelopes", "{envelope}", "Envelopes this consumer handled for its group, by envelope type.");
        _pages = _meter.CreateCounter<long>("immune.consumer.pages", "{page}", "Pager actions sent, by action: trigger or resolve.");
        _deadLettered = _meter.CreateCounter<long>("immune.consumer.dead_lettered", "{entry}", "Malformed entries moved to the dead-letter stream.");
        _meter.CreateObservableGauge("immune.fleet.active_issues", () => PerSource(fleet, s => s.ActiveIssues), "{event}",
            "Events recorded in the window, per source.");
        _meter.CreateObservableGauge("immune.fleet.critical_issues", () => PerSource(fleet, s => s.CriticalIssues), "{event}",
            "Events recorded in the window whose latest severity is CRITICAL, per source.");
        _meter.CreateObservableGauge("immune.fleet.instances", () => PerSource(fleet, s => s.Instances), "{instance}",
            "Instances with an event recorded in the window, per source.");
        _meter.CreateObservableGauge("immune.fleet.open_incidents", () => OpenIncidents(fleet), "{event}",
            "Open incidents (WARNING or CRITICAL events recorded in the window), per source and severity.");
    }

    /// <summary>Gets the window the fleet gauges look back over.</summary>
    public TimeSpan Window { get; }

    public void Handled(string envelopeType)
        => _handled.Add(1, new KeyValuePair<string, object?>("type", KnownTypes.Contains(envelopeType) ? envelopeType : "other"));

    public void Paged(string action) => _pages.Add(1, new KeyValuePair<string, object?>("action", action));

    public void DeadLettered() => _deadLettered.Add(1);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<int>> PerSource(ImmuneFleetView fleet, Func<ImmuneSourceHealth, int> value)
        => fleet.GetHealthSummary(Window).Sources.Select(s => new Measurement<int>(value(s), new KeyValuePair<string, object?>("source", s.Source)));

    private IEnumerable<Measurement<int>> OpenIncidents(ImmuneFleetView fleet)
        => fleet.GetIncidents(Window, 10_000)
            .GroupBy(i => (i.Source, i.Severity))
            .Select(g => new Measurement<int>(g.Count(),
                new KeyValuePair<string, object?>("source", g.Key.Source),
                new KeyValuePair<string, object?>("severity", g.Key.Severity == ImmuneSeverity.Critical ? "critical" : "warning")));
}
