namespace Immune.Fleet.AspNetCore;

/// <summary>
/// Whether what the fleet host shows is live: when its feeds last read their brokers. The oldest last read of the feeds
/// counts (one feed behind is enough to make the view stale), and a host with no feed that ever read is not live at all.
/// </summary>
internal sealed class FleetFreshness(IEnumerable<ImmuneFeed> feeds, ImmuneFleetHostOptions options, TimeProvider timeProvider)
{
    /// <summary>Gets when every feed last read its broker (the oldest of their last reads), whether that is within the staleness threshold now, and the feeds' status.</summary>
    public (DateTimeOffset? LastReadAt, bool Live, IReadOnlyList<ImmuneFeedStatus> Feeds) Now() => At(timeProvider.GetUtcNow());

    /// <summary>
    /// As <see cref="Now"/>, judged at <paramref name="now"/>: an answer that carries its own time (<c>generated_at</c>)
    /// passes that time here, so that whether it is live agrees with the time it shows.
    /// </summary>
    public (DateTimeOffset? LastReadAt, bool Live, IReadOnlyList<ImmuneFeedStatus> Feeds) At(DateTimeOffset now)
    {
        ImmuneFeedStatus[] statuses = [.. feeds.Select(f => f.GetStatus())];
        DateTimeOffset? oldest = statuses.Length == 0 || statuses.Any(s => s.LastReadAt is null) ? null : statuses.Min(s => s.LastReadAt);
        bool live = oldest is { } read && now - read <= options.StaleAfter;
        return (oldest, live, statuses);
    }
}
