using System.Runtime.CompilerServices;

namespace Immune.Delivery;

/// <summary>
/// Delivers the batch in hand in order: every call bounded by <see cref="StreamCall"/> (its publish timeout, or the
/// delivery deadline of the envelope it carries first), every envelope by <see cref="ImmuneOptions.DeliveryTimeout"/>
/// (from when it was queued) and <see cref="ImmuneOptions.DeliveryAttempts"/>, with <see cref="Backoff"/> between
/// attempts on the injected <see cref="TimeProvider"/>. A batch stream's envelopes go in one call, retried whole; a
/// plain stream's go one by one until one fails, which is then retried alone before the rest. Nothing behind a failing
/// envelope is attempted, so order holds through an outage: the head is retried and everything else waits. The
/// service's stop ends a backoff at once, as a shutdown. Used by the one delivery loop, one batch at a time.
/// </summary>
/// <remarks>
/// <para>
/// Deadlines need a try: an envelope fails for its deadline only when the stream was tried and failed at or after that
/// deadline — its own attempt, or the attempt of the head it waited behind. A clock that jumps while nothing was
/// attempted (a fake clock in a test, a machine resumed from suspend) takes nothing: the next attempt decides. When a
/// retry's backoff would cross the head's deadline, the wait ends at the deadline and one more attempt, with its full
/// publish timeout, is made; no attempt starts after a failed one that came at or after the deadline.
/// </para>
/// <para>
/// Rejections are final: the envelopes a call's <see cref="EnvelopeRejectedException"/> names (all of the call's when it
/// names none) fail at once as <c>rejected</c>, in their place in the order, and the rest of the call is sent again at
/// once, without them. A rejection naming none of the call's envelopes is a plain failure.
/// </para>
/// </remarks>
internal sealed class DeliveryAttempts(StreamCall call, DeliverySettings settings, TimeProvider timeProvider, DeliveryReporter reporter, StreamHealth health, Func<double> jitter, CancellationToken stop)
{
    private readonly bool[] _rejected = new bool[settings.MaxBatchSize]; // of the batch in hand: refused for good, to be claimed in their place

    /// <summary>
    /// Takes the final result of <paramref name="count"/> envelopes from index <paramref name="from"/> of the batch;
    /// <see langword="false"/> when disposal abandoned the batch meanwhile (then it counted them).
    /// </summary>
    public delegate bool Claim(int from, int count, in Settlement delivery);

    /// <summary>Delivers <paramref name="envelopes"/>, the batch in hand, claiming results in order; false when disposal took the batch.</summary>
    /// <param name="batch">The batch in hand, for the envelopes' logs.</param>
    /// <param name="envelopes">Its envelopes, built, in order.</param>
    /// <param name="deadlines">Their delivery deadlines, as <see cref="TimeProvider"/> timestamps (<see cref="long.MaxValue"/> for none).</param>
    /// <param name="claim">Takes each final result.</param>
    /// <remarks>Its state machine comes from a pool, as <see cref="RetryAsync"/>'s: a batch allocates nothing for them.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> DeliverAsync(BatchInHand batch, ReadOnlyMemory<EventEnvelope> envelopes, ReadOnlyMemory<long> deadlines, Claim claim)
    {
        int count = envelopes.Length;
        Array.Clear(_rejected, 0, count);
        for (int next = 0; next < count;)
        {
            int rejected = RunOf(_rejected, next, count, true);
            if (rejected > 0)
            {
                if (!claim(next, rejected, new Settlement(Outcome.FailedRejected, 1, null, TimeSpan.Zero)))
                {
                    return false;
                }

                next += rejected;
                continue;
            }

            // Envelopes whose deadline passed by the stream's latest failed attempt waited behind a head that was tried
            // after it: they fail without a try of their own.
            int expired = ExpiredBy(health.LastFailedAt, deadlines.Span, next, count - next);
            if (expired > 0)
            {
                if (!claim(next, expired, new Settlement(Outcome.FailedTimeout, 0, null, TimeSpan.Zero)))
                {
                    return false;
                }

                next += expired;
                continue;
            }

            int end = next + RunOf(_rejected, next, count, false); // a call never carries an envelope already refused
            long started = timeProvider.GetTimestamp();
            StreamCall.Run run = Resolve(await call.InvokeAsync(envelopes[next..end], deadlines[next..end]).ConfigureAwait(false), envelopes, next, end);
            health.Observe(run, timeProvider.GetTimestamp());
            if (run.Delivered > 0 && !claim(next, run.Delivered, new Settlement(Outcome.Delivered, 1, null, timeProvider.GetElapsedTime(started))))
            {
                return false;
            }

            next += run.Delivered;
            if (run.Next.Outcome is not (Outcome.Delivered or Outcome.FailedRejected))
            {
                // The next envelope (or the rest of the call) failed its first attempt: retry it alone (or whole).
                next = await RetryAsync(batch, envelopes, deadlines, next, call.Batches ? end - next : 1, run.Next, started, claim).ConfigureAwait(false);
                if (next < 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Retries the unit at <paramref name="from"/> until it is delivered or runs out of attempts or time; those of its
    /// envelopes whose deadline passed by a failed attempt fail with that attempt's reason, and the rest goes on.
    /// Returns where the batch goes on, or -1 when disposal took the batch. A rejection ends the retries: the caller
    /// claims the rejected envelopes in their place and sends the rest again.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> RetryAsync(BatchInHand batch, ReadOnlyMemory<EventEnvelope> envelopes, ReadOnlyMemory<long> deadlines, int from, int unit, Attempt outcome, long started, Claim claim)
    {
        int attempt = 1; // attempts made on the unit
        while (true)
        {
            switch (RetryPolicy.After(outcome.Outcome, attempt, settings.DeliveryAttempts))
            {
                case RetryPolicy.End.GiveUpRest:
                    // The service stopped: the rest of the batch is given up at once, not envelope by envelope.
                    return claim(from, envelopes.Length - from, Final(outcome, attempt, started)) ? envelopes.Length : -1;
                case RetryPolicy.End.Settle:
                    return claim(from, unit, Final(outcome, attempt, started)) ? from + unit : -1;
            }

            // The attempt just failed: those whose deadline it reached were tried at or after it, and fail with its reason.
            int expired = ExpiredBy(health.LastFailedAt, deadlines.Span, from, unit);
            if (expired > 0)
            {
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
                // Wait for the backoff, or only until the head's deadline: the attempt made then decides its fate.
                TimeSpan delay = RetryPolicy.Wait(Stamps.Until(deadlines.Span[from], timeProvider), Backoff.Delay(attempt, settings.RetryDelay, settings.MaxRetryDelay, jitter()));
                reporter.AttemptFailed(batch[from], unit, attempt, settings.DeliveryAttempts, outcome.Outcome, delay, outcome.Exception);
                try
                {
                    await Task.Delay(delay, timeProvider, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    outcome = new Attempt(Outcome.DroppedShutdown, null);
                    continue;
                }
            }

            StreamCall.Run retry = Resolve(await call.InvokeAsync(envelopes.Slice(from, unit), deadlines.Slice(from, unit)).ConfigureAwait(false), envelopes, from, from + unit);
            health.Observe(retry, timeProvider.GetTimestamp());
            if (retry.Next.Outcome == Outcome.FailedRejected)
            {
                return from; // the caller claims the rejected in their place and sends the rest again at once
            }

            outcome = retry.Next;
            attempt++;
        }
    }

    /// <summary>
    /// Marks the envelopes of the call [<paramref name="from"/>, <paramref name="end"/>) that a rejection names (after
    /// those the run delivered); a rejection that names none of them is a plain failure of the call.
    /// </summary>
    private StreamCall.Run Resolve(StreamCall.Run run, ReadOnlyMemory<EventEnvelope> envelopes, int from, int end)
    {
        if (run.Next.Outcome != Outcome.FailedRejected || run.Next.Exception is not EnvelopeRejectedException rejection)
        {
            return run;
        }

        int first = from + run.Delivered;
        int last = call.Batches ? end : first + 1; // a plain stream's call carried one envelope
        bool any = false;
        ReadOnlySpan<EventEnvelope> span = envelopes.Span;
        for (int i = first; i < last; i++)
        {
            if (rejection.EnvelopeIds.Count == 0 || Names(rejection.EnvelopeIds, span[i].Id))
            {
                _rejected[i] = any = true;
            }
        }

        return any ? run : run with { Next = new Attempt(Outcome.FailedStreamError, rejection) };
    }

    private static bool Names(IReadOnlyList<string> ids, string id)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], id, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Counts the envelopes from <paramref name="from"/> whose rejection mark is <paramref name="marked"/>, up to <paramref name="count"/>.</summary>
    private static int RunOf(bool[] rejected, int from, int count, bool marked)
    {
        int run = 0;
        while (from + run < count && rejected[from + run] == marked)
        {
            run++;
        }

        return run;
    }

    private Settlement Final(in Attempt outcome, int attempts, long started)
        => new(outcome.Outcome, attempts, outcome.Exception, timeProvider.GetElapsedTime(started));

    /// <summary>Counts the envelopes from <paramref name="from"/> whose deadline is at or before <paramref name="failedAt"/>: deadlines only grow, so they lead.</summary>
    private static int ExpiredBy(long failedAt, ReadOnlySpan<long> deadlines, int from, int count)
    {
        int expired = 0;
        while (expired < count && deadlines[from + expired] <= failedAt)
        {
            expired++;
        }

        return expired;
    }
}
