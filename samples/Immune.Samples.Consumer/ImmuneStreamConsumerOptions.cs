namespace Immune.Samples.Consumer;

/// <summary>Options of <see cref="ImmuneStreamConsumer"/>.</summary>
public sealed class ImmuneStreamConsumerOptions
{
    public string StreamKey { get; set; } = "immune:events";

    public string DeadLetterKey { get; set; } = "immune:events:dead";

    public string Group { get; set; } = "immune-consumers";

    public string ConsumerName { get; set; } = Environment.MachineName;

    /// <summary>How long an entry stays pending with a consumer before another one reclaims it (the first may have crashed).</summary>
    public TimeSpan ReclaimAfter { get; set; } = TimeSpan.FromSeconds(30);

    public int BatchSize { get; set; } = 32;

    /// <summary>How long to wait when the stream had nothing new (StackExchange.Redis does not block on XREADGROUP).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a paged escalation is remembered, so that a redelivery of its envelope does not page again.</summary>
    public TimeSpan DedupFor { get; set; } = TimeSpan.FromDays(7);
}
