namespace Immune;

/// <summary>How <see cref="ImmuneService"/> hands envelopes to the <see cref="IEventStream"/>.</summary>
public enum ImmuneDelivery
{
    /// <summary>
    /// <see cref="ImmuneService.PublishAsync"/> records the event, queues its envelopes and returns at once; one background
    /// loop delivers them in order. A slow, hung or failing stream never changes the caller's result or latency.
    /// </summary>
    Background = 0,

    /// <summary>
    /// <see cref="ImmuneService.PublishAsync"/> also waits until the event's envelopes are delivered, failed or dropped
    /// (each attempt bounded by <see cref="ImmuneOptions.PublishTimeout"/>); it still never throws for the stream.
    /// </summary>
    Inline = 1,
}
