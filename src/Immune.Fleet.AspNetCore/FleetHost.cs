namespace Immune.Fleet.AspNetCore;

/// <summary>What the fleet endpoints answer, from the view, the feeds and paging: each answer bounded whatever the fleet's size.</summary>
internal sealed class FleetHost(ImmuneFleetView view, ImmuneFleetHostOptions options, FleetFreshness freshness, ImmunePaging? paging = null)
{
    public ImmuneFleetHostOptions Options { get; } = options;

    public HealthResponse Health(TimeSpan window, int maxSources)
    {
        ImmuneFleetSummary s = view.GetHealthSummary(window, maxSources);
        (DateTimeOffset? lastReadAt, bool live, IReadOnlyList<ImmuneFeedStatus> feeds) = freshness.At(s.GeneratedAt);
        SourceResponse[] sources = [.. s.Sources.Select(h => new SourceResponse(h.Source, WireNames.Of(h.Status), h.ActiveIssues, h.CriticalIssues, h.Instances, h.OpenIncidents, h.OpenCriticalIncidents))];
        int listedInWindow = s.Sources.Count(h => h.ActiveIssues > 0);
        return new HealthResponse(
            WireNames.Of(s.Status),
            s.ActiveIssues,
            s.CriticalIssues,
            s.CountsBySeverity.ToDictionary(p => WireNames.Of(p.Key), p => p.Value),
            s.CountsByType.ToDictionary(p => WireNames.Of(p.Key), p => p.Value),
            s.Window.TotalMinutes,
            s.GeneratedAt,
            s.OpenIncidents,
            s.OpenCriticalIncidents,
            s.IncidentsEvicted,
            s.SourceCount,
            sources,
            Math.Max(0, s.SourceCount - listedInWindow),
            live,
            lastReadAt,
            [.. feeds.Select(f => new FeedResponse(f.Name, f.LastReadAt, f.FailingSince, f.LastError, f.Read, f.Lag, f.Pending, f.Lost))],
            paging?.GetStatus() is { } p ? new PagerResponse(p.Sent, p.Refused, p.Failed, p.FailingSince, p.LastProblem) : null);
    }

    public IReadOnlyList<IncidentResponse> Incidents(int max)
        => [.. view.GetIncidents(max).Select(i => new IncidentResponse(
            i.Source, i.InstanceId, i.EventId, WireNames.Of(i.Severity), WireNames.Of(i.Type), i.Message, i.AgentId, i.Module, i.RecordedAt, i.ChangedAt, i.LastSeenAt, i.Occurrences))];

    public IReadOnlyList<MinuteResponse> Rate(int minutes)
        => [.. view.GetRecordedPerMinute(minutes).Select(m => new MinuteResponse(m.Start, m.Info, m.Warning, m.Critical))];
}
