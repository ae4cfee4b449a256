namespace Immune.Delivery;

/// <summary>
/// Delivers a run of envelopes with up to <see cref="ImmuneOptions.DeliveryAttempts"/> attempts each, every call bounded
/// by <see cref="StreamCall"/>, with <see cref="Backoff"/> between attempts on the injected <see cref="TimeProvider"/>.
/// A batch stream's run is one call, retried whole; a plain stream's run goes one by one until an envelope fails, which
/// is then retried alone before the run goes on. The service's stop ends a backoff at once, as a shutdown. Used by the
/// one delivery loop, one run at a time.
/// </summary>
internal sealed class DeliveryAttempts(StreamCall call, ImmuneOptions options, TimeProvider timeProvider, DeliveryReporter reporter, Func<double> jitter, CancellationToken stop)
{
    /// <summary>
    /// Delivers from the start of <paramref name="envelopes"/>: <c>Delivered</c> envelopes went through on their first
    /// attempt; then <c>Settled</c> more (the failed envelope, or the whole failed batch; 0 when all went through) ended
    /// as <c>Last</c> says, after their retries. The caller goes on after <c>Delivered + Settled</c>.
    /// </summary>
    /// <param name="batch">The batch in hand, whose envelopes from <paramref name="from"/> on these are (for the retry log).</param>
    /// <param name="from">The index in <paramref name="batch"/> of the first envelope.</param>
    /// <param name="envelopes">The envelopes, in order.</param>
    public async ValueTask<Result> DeliverAsync(BatchInHand batch, int from, ReadOnlyMemory<EventEnvelope> envelopes)
    {
        long started = timeProvider.GetTimestamp();
        StreamCall.Run run = await call.InvokeAsync(envelopes).ConfigureAwait(false);
        int delivered = run.Delivered;
        TimeSpan firstRun = timeProvider.GetElapsedTime(started);
        if (run.Next.Outcome == Outcome.Delivered)
        {
            return new Result(delivered, firstRun, 0, default);
        }

        // The next envelope (or the whole batch) failed its first attempt: retry it alone (or whole).
        int settled = call.Batches ? envelopes.Length : 1;
        ReadOnlyMemory<EventEnvelope> unit = envelopes.Slice(delivered, settled);
        Attempt outcome = run.Next;
        for (int attempt = 1; ; attempt++)
        {
            if (outcome.Outcome is Outcome.Delivered or Outcome.DroppedShutdown || attempt == options.DeliveryAttempts)
            {
                return new Result(delivered, firstRun, settled, new Delivery(outcome.Outcome, attempt, outcome.Exception, timeProvider.GetElapsedTime(started)));
            }

            TimeSpan delay = Backoff.Delay(attempt, options.RetryDelay, jitter());
            reporter.AttemptFailed(batch[from + delivered], settled, attempt, options.DeliveryAttempts, outcome.Outcome, delay, outcome.Exception);
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, timeProvider, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return new Result(delivered, firstRun, settled, new Delivery(Outcome.DroppedShutdown, attempt, null, timeProvider.GetElapsedTime(started)));
                }
            }

            StreamCall.Run retry = await call.InvokeAsync(unit).ConfigureAwait(false);
            outcome = retry.Next;
        }
    }

    /// <summary>What one <see cref="DeliverAsync"/> settled; see there.</summary>
    internal readonly record struct Result(int Delivered, TimeSpan DeliveredIn, int Settled, Delivery Last);
}
