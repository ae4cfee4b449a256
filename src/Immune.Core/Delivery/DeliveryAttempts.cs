using System.Runtime.CompilerServices;

namespace Immune.Delivery;

/// <summary>
/// Delivers the batch in hand in order: every call bounded by <see cref="StreamCall"/>, every envelope by
/// <see cref="ImmuneOptions.DeliveryTimeout"/> (from when it was queued) and <see cref="ImmuneOptions.DeliveryAttempts"/>,
/// with <see cref="Backoff"/> between attempts on the injected <see cref="TimeProvider"/>. A batch stream's envelopes
/// go in one call, retried whole; a plain stream's go one by one until one fails, which is then retried alone before
/// the rest. Nothing behind a failing envelope is attempted, so order holds through an outage: the head is retried
/// and everything else waits. The service's stop ends a backoff at once, as a shutdown. Used by the one delivery
/// loop, one batch at a time.
/// </summary>
internal sealed class DeliveryAttempts(StreamCall call, ImmuneOptions options, TimeProvider timeProvider, DeliveryReporter reporter, StreamHealth health, Func<double> jitter, CancellationToken stop)
{
    /// <summary>
    /// Takes the final result of <paramref name="count"/> envelopes from index <paramref name="from"/> of the batch;
    /// <see langword="false"/> when disposal abandoned the batch meanwhile (then it counted them).
    /// </summary>
    public delegate bool Claim(int from, int count, in Settlement delivery);

    /// <summary>Delivers <paramref name="envelopes"/>, the batch in hand, claiming results in order; false when disposal took the batch.</summary>
    /// <param name="batch">The batch in hand, for the envelopes' queue times, shedding class and logs.</param>
    /// <param name="envelopes">Its envelopes, built, in order.</param>
    /// <param name="claim">Takes each final result.</param>
    /// <remarks>Its state machine comes from a pool, as <see cref="RetryAsync"/>'s: a batch allocates nothing for them.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> DeliverAsync(BatchInHand batch, ReadOnlyMemory<EventEnvelope> envelopes, Claim claim)
    {
        int count = envelopes.Length;
        for (int next = 0; next < count;)
        {
            // Envelopes whose time ran out while they waited behind a failing head fail without an attempt.
            int expired = Expired(batch, next, count - next);
            if (expired > 0)
            {
                if (!claim(next, expired, new Settlement(Outcome.FailedTimeout, 0, null, TimeSpan.Zero)))
                {
                    return false;
                }

                next += expired;
                continue;
            }

            long started = timeProvider.GetTimestamp();
            StreamCall.Run run = await call.InvokeAsync(envelopes[next..]).ConfigureAwait(false);
            health.Observe(run);
            if (run.Delivered > 0 && !claim(next, run.Delivered, new Settlement(Outcome.Delivered, 1, null, timeProvider.GetElapsedTime(started))))
            {
                return false;
            }

            next += run.Delivered;
            if (run.Next.Outcome != Outcome.Delivered)
            {
                // The next envelope (or the rest of the batch) failed its first attempt: retry it alone (or whole).
                next = await RetryAsync(batch, envelopes, next, call.Batches ? count - next : 1, run.Next, started, claim).ConfigureAwait(false);
                if (next < 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Retries the unit at <paramref name="from"/> until it is delivered or runs out of attempts or time; its oldest
    /// envelopes whose time runs out meanwhile fail first and the rest goes on. Returns where the batch goes on, or -1
    /// when disposal took the batch.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> RetryAsync(BatchInHand batch, ReadOnlyMemory<EventEnvelope> envelopes, int from, int unit, Attempt outcome, long started, Claim claim)
    {
        int attempt = 1; // attempts made on the unit
        while (true)
        {
            switch (RetryPolicy.After(outcome.Outcome, attempt, options.DeliveryAttempts))
            {
                case RetryPolicy.End.GiveUpRest:
                    // The service stopped: the rest of the batch is given up at once, not envelope by envelope.
                    return claim(from, envelopes.Length - from, Final(outcome, attempt, started)) ? envelopes.Length : -1;
                case RetryPolicy.End.Settle:
                    return claim(from, unit, Final(outcome, attempt, started)) ? from + unit : -1;
            }

            int expired = Expired(batch, from, unit);
            if (expired > 0)
            {
                // The oldest ran out of time: they fail with their last attempt's reason; the rest is tried at once.
                if (!claim(from, expired, Final(outcome, attempt, started)))
                {
                    return -1;
                }

                (from, unit) = (from + expired, unit - expired);
                if (unit == 0)
                {
                    return from;
                }
            }
            else
            {
                TimeSpan delay = RetryPolicy.Wait(TimeLeft(batch[from]), Backoff.Delay(attempt, options.RetryDelay, options.MaxRetryDelay, jitter()), out bool toDeadline);
                reporter.AttemptFailed(batch[from], unit, attempt, options.DeliveryAttempts, outcome.Outcome, delay, outcome.Exception);
                try
                {
                    await Task.Delay(delay, timeProvider, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    outcome = new Attempt(Outcome.DroppedShutdown, null);
                    continue;
                }

                if (toDeadline)
                {
                    continue; // woke at the head's deadline: it fails above with the attempts it had, untried again
                }
            }

            StreamCall.Run retry = await call.InvokeAsync(envelopes.Slice(from, unit)).ConfigureAwait(false);
            health.Observe(retry);
            outcome = retry.Next;
            attempt++;
        }
    }

    private Settlement Final(in Attempt outcome, int attempts, long started)
        => new(outcome.Outcome, attempts, outcome.Exception, timeProvider.GetElapsedTime(started));

    /// <summary>Counts the envelopes from <paramref name="from"/> whose delivery time ran out: queue times only grow, so they lead.</summary>
    private int Expired(BatchInHand batch, int from, int count)
    {
        int expired = 0;
        while (expired < count && TimeLeft(batch[from + expired]) <= TimeSpan.Zero)
        {
            expired++;
        }

        return expired;
    }

    private TimeSpan TimeLeft(in PendingEnvelope envelope)
        => options.DeliveryTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : options.DeliveryTimeout - timeProvider.GetElapsedTime(envelope.QueuedAt);
}
