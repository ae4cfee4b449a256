namespace Immune;

/// <summary>
/// A transport that accepts envelopes in batches, so that one round trip carries many of them (pipelined commands,
/// one produce request, one bulk insert). The service hands such a stream up to <c>ImmuneOptions.MaxBatchSize</c>
/// envelopes per call, in record order, as soon as they are queued: it never waits to fill a batch.
/// </summary>
/// <remarks>
/// A call completes when the transport accepted every envelope in it, and throws when it did not; the service then
/// retries the whole batch with the same envelope ids. Delivery is therefore at-least-once: a consumer deduplicates by
/// the envelope <see cref="EventEnvelope.Id"/>. The service bounds each call by its publish timeout and cancels the
/// token when the call times out or the service stops. The single-envelope <see cref="IEventStream.PublishAsync"/> is
/// not used by the service when a stream implements this interface.
/// </remarks>
public interface IBatchEventStream : IEventStream
{
    /// <summary>Publishes a batch of envelopes, in order.</summary>
    /// <param name="envelopes">The envelopes, in record order; at least one. The memory is valid only until the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the call times out or the service stops.</param>
    /// <returns>A task that completes when the transport has accepted every envelope of the batch.</returns>
    ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default);
}
