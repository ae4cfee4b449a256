namespace Immune.Delivery;

/// <summary>
/// Delivers one envelope (a plain stream) or one batch (a batch stream) with up to
/// <see cref="ImmuneOptions.DeliveryAttempts"/> attempts, each bounded by <see cref="StreamCall"/>, with
/// <see cref="Backoff"/> between them on the injected <see cref="TimeProvider"/>. The service's stop ends a backoff at
/// once, as a shutdown. Used by the one delivery loop, one delivery at a time.
/// </summary>
internal sealed class DeliveryAttempts(StreamCall call, ImmuneOptions options, TimeProvider timeProvider, DeliveryReporter reporter, Func<double> jitter, CancellationToken stop)
{
    /// <summary>Gets whether the stream takes batches.</summary>
    public bool Batches => call.Batches;

    /// <summary>Attempts until delivered, stopped, or out of attempts.</summary>
    /// <param name="first">The (first) envelope's facts, for the retry log.</param>
    /// <param name="envelope">The envelope, for a plain stream.</param>
    /// <param name="batch">The batch, for a batch stream.</param>
    /// <param name="count">How many envelopes the delivery carries.</param>
    public async ValueTask<Delivery> DeliverAsync(PendingEnvelope first, EventEnvelope? envelope, ReadOnlyMemory<EventEnvelope> batch, int count)
    {
        long started = timeProvider.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            Attempt outcome = await call.InvokeAsync(envelope, batch).ConfigureAwait(false);
            if (outcome.Outcome is Outcome.Delivered or Outcome.DroppedShutdown || attempt == options.DeliveryAttempts)
            {
                return new Delivery(outcome.Outcome, attempt, outcome.Exception, timeProvider.GetElapsedTime(started));
            }

            TimeSpan delay = Backoff.Delay(attempt, options.RetryDelay, jitter());
            reporter.AttemptFailed(first, count, attempt, options.DeliveryAttempts, outcome.Outcome, delay, outcome.Exception);
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, timeProvider, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return new Delivery(Outcome.DroppedShutdown, attempt, null, timeProvider.GetElapsedTime(started));
                }
            }
        }
    }
}
