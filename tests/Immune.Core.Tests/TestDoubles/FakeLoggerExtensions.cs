using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.TestDoubles;

internal static class FakeLoggerExtensions
{
    /// <summary>Gets the records of the log event named <paramref name="eventName"/> (EVENTS.md, "Log events"), oldest first.</summary>
    public static IReadOnlyList<FakeLogRecord> WithName(this FakeLogger logger, string eventName)
        => [.. logger.Collector.GetSnapshot().Where(record => record.Id.Name == eventName)];
}
