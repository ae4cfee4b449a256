using System.Diagnostics.Metrics;

namespace Immune.Fleet.AspNetCore;

/// <summary>
/// The <c>Immune.Fleet</c> meter: the fleet as this host sees it, bounded whatever its size — totals for the whole fleet,
/// series of their own only for the worst sources (those with open incidents, at most
/// <see cref="ImmuneFleetHostOptions.MetricSources"/>) — and the host's own work: its feeds' freshness, lag and losses,
/// and paging. Names and alert rules in EVENTS.md; with several hosts, aggregate with <c>max</c>, never <c>sum</c>.
/// </summary>
internal sealed class FleetMetrics : IDisposable
{
    public const string MeterName = "Immune.Fleet";

    private readonly Meter _meter;

    public FleetMetrics(IMeterFactory meters, ImmuneFleetView view, ImmuneFleetHostOptions options, FleetFreshness freshness, TimeProvider timeProvider, ImmunePaging? paging = null)
    {
        _meter = meters.Create(MeterName);
        TimeSpan window = TimeSpan.FromMinutes(options.WindowMinutes);
        _meter.CreateObservableGauge("immune.fleet.open_incidents", () => OpenIncidents(view), "{incident}",
            "Open incidents of the whole fleet (events whose current severity is WARNING or CRITICAL), by severity.");
        _meter.CreateObservableGauge("immune.fleet.source.open_incidents", () => WorstSources(view, options.MetricSources), "{incident}",
            "Open incidents of the worst sources (those with any, most CRITICAL first), by source and severity.");
        _meter.CreateObservableGauge("immune.fleet.events", () => Events(view, window), "{event}",
            "Events recorded in the window, by their current severity.");
        _meter.CreateObservableGauge("immune.fleet.sources", () => new Measurement<int>(view.GetHealthSummary(window, 0).SourceCount), "{source}",
            "Sources with an event recorded in the window.");
        _meter.CreateObservableCounter("immune.fleet.incidents.evicted", () => view.GetHealthSummary(TimeSpan.Zero, 0).IncidentsEvicted, "{incident}",
            "Open incidents the view let go of to stay within its capacity.");
        _meter.CreateObservableGauge("immune.fleet.feed.last_read_age", () => freshness.Now().Feeds.Select(f => new Measurement<double>(
            f.LastReadAt is { } read ? Math.Max(0, (timeProvider.GetUtcNow() - read).TotalSeconds) : double.PositiveInfinity, Feed(f))), "s",
            "Time since each feed last read its broker: what the host shows is that old.");
        _meter.CreateObservableGauge("immune.fleet.feed.lag", () => freshness.Now().Feeds.Where(f => f.Lag is not null).Select(f => new Measurement<long>(f.Lag!.Value, Feed(f))), "{entry}",
            "Entries each feed has not read yet, as its broker says.");
        _meter.CreateObservableCounter("immune.fleet.feed.lost", () => freshness.Now().Feeds.Select(f => new Measurement<long>(f.Lost, Feed(f))), "{entry}",
            "Entries each feed found gone from its broker before it read them.");
        if (paging is not null)
        {
            _meter.CreateObservableCounter("immune.fleet.pages", () => Pages(paging), "{action}",
                "Pager actions by result: sent, refused (for good), failed (pending, sent when the pager answers).");
            _meter.CreateObservableGauge("immune.fleet.pager.failing", () => paging.GetStatus().FailingSince is null ? 0 : 1, "{pager}",
                "1 while the pager does not take pages (they stay pending), else 0.");
        }
    }

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> Feed(ImmuneFeedStatus feed) => new("feed", feed.Name);

    private static IEnumerable<Measurement<int>> OpenIncidents(ImmuneFleetView view)
    {
        ImmuneFleetSummary s = view.GetHealthSummary(TimeSpan.Zero, 0);
        yield return new Measurement<int>(s.OpenCriticalIncidents, new KeyValuePair<string, object?>("severity", "critical"));
        yield return new Measurement<int>(s.OpenIncidents - s.OpenCriticalIncidents, new KeyValuePair<string, object?>("severity", "warning"));
    }

    private static IEnumerable<Measurement<int>> WorstSources(ImmuneFleetView view, int max)
    {
        if (max == 0)
        {
            yield break;
        }

        foreach (ImmuneSourceHealth source in view.GetHealthSummary(TimeSpan.Zero, max).Sources)
        {
            yield return new Measurement<int>(source.OpenCriticalIncidents, new("source", source.Source), new("severity", "critical"));
            yield return new Measurement<int>(source.OpenIncidents - source.OpenCriticalIncidents, new("source", source.Source), new("severity", "warning"));
        }
    }

    private static IEnumerable<Measurement<int>> Events(ImmuneFleetView view, TimeSpan window)
    {
        ImmuneFleetSummary s = view.GetHealthSummary(window, 0);
        foreach ((ImmuneSeverity severity, int count) in s.CountsBySeverity)
        {
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>("severity", WireNames.Of(severity).ToLowerInvariant()));
        }
    }

    private static IEnumerable<Measurement<long>> Pages(ImmunePaging paging)
    {
        ImmunePagingStatus s = paging.GetStatus();
        yield return new Measurement<long>(s.Sent, new KeyValuePair<string, object?>("result", "sent"));
        yield return new Measurement<long>(s.Refused, new KeyValuePair<string, object?>("result", "refused"));
        yield return new Measurement<long>(s.Failed, new KeyValuePair<string, object?>("result", "failed"));
    }
}
