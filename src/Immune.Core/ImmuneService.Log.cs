using Microsoft.Extensions.Logging;

namespace Immune;

public sealed partial class ImmuneService
{
    /// <summary>Log entries of the service itself (delivery logs its own: <c>DeliveryReporter</c>); ids and names are part of the documented contract (EVENTS.md).</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "NoEventStream", Level = LogLevel.Warning,
            Message = "No IEventStream is configured: immune events are recorded and summarized but not published.")]
        public static partial void NoEventStream(ILogger logger);
    }
}
