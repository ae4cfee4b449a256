using Microsoft.Extensions.Logging;

namespace Immune.Redis;

/// <summary>The Redis package's own log events (EVENTS.md, "Logging"), source-generated.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 17, EventName = "FloorsRefused", Level = LogLevel.Warning,
        Message = "The feed {Feed} may not write what its open incidents need to {Key} ({Error}), so the producers' trim does not keep it for this feed; allow EVAL and EVALSHA on that key. The feed reads on.")]
    public static partial void FloorsRefused(ILogger logger, string feed, string key, string error);
}
