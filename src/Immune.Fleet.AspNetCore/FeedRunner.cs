using Microsoft.Extensions.Hosting;

namespace Immune.Fleet.AspNetCore;

/// <summary>
/// Runs every <see cref="ImmuneFeed"/> registered for the life of the host: the broker feeds that keep the fleet's view
/// current and the consumer groups that page. A feed never ends on an exception (it backs off and reads again); the host's
/// stop ends them all.
/// </summary>
internal sealed class FeedRunner(IEnumerable<ImmuneFeed> feeds) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(feeds.Select(feed => Task.Run(() => feed.RunAsync(stoppingToken), CancellationToken.None)));
}
