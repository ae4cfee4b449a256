namespace Immune;

/// <summary>The transport seam: where the service hands its envelopes. The host implements it over its bus.</summary>
/// <remarks>
/// The service calls <see cref="PublishAsync"/> from one delivery loop at a time, in record order. An implementation
/// should honour the token (the service cancels it when an attempt times out or the service shuts down) and report a
/// failure by throwing; the service counts, logs and retries it and never lets it reach the code that recorded the event.
/// </remarks>
public interface IEventStream
{
    /// <summary>Publishes one envelope.</summary>
    /// <param name="envelope">The envelope. Never null.</param>
    /// <param name="cancellationToken">Cancelled when the attempt times out or the service stops.</param>
    /// <returns>A task that completes when the transport has accepted the envelope.</returns>
    ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default);
}
