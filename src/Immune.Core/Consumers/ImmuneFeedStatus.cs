namespace Immune;

/// <summary>
/// How an <see cref="ImmuneFeed"/> is doing, as its health check, the fleet page and <c>/metrics</c> show it: when it
/// last read from the broker, whether it is failing, how far behind it is, and what it found lost.
/// </summary>
public sealed record ImmuneFeedStatus
{
    /// <summary>Gets the feed's name (its broker, stream and role, such as <c>redis immune:events fleet</c>).</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Gets when the feed last read from the broker successfully (even when there was nothing new), on its
    /// <see cref="TimeProvider"/>; null before its first read. What the feed shows is live as of this time.
    /// </summary>
    public DateTimeOffset? LastReadAt { get; init; }

    /// <summary>Gets how many entries the feed has read since it started.</summary>
    public long Read { get; init; }

    /// <summary>Gets when the current run of failed reads began; null while the last read succeeded.</summary>
    public DateTimeOffset? FailingSince { get; init; }

    /// <summary>Gets how many reads in a row have failed; 0 while the last one succeeded.</summary>
    public long Failures { get; init; }

    /// <summary>Gets the last failure's message, while reads fail; null otherwise.</summary>
    public string? LastError { get; init; }

    /// <summary>Gets how many entries the broker holds that the feed has not read yet, as the broker last told it; null when unknown.</summary>
    public long? Lag { get; init; }

    /// <summary>Gets how many entries were handed to the feed's group but not acknowledged yet; null for a feed without a group.</summary>
    public long? Pending { get; init; }

    /// <summary>Gets how many entries the feed found gone before it read them (trimmed or discarded by the broker) since it started.</summary>
    public long Lost { get; init; }
}
