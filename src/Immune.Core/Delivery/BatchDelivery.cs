using System.Runtime.CompilerServices;

namespace Immune.Delivery;

/// <summary>
/// Delivers the batch in hand: builds its envelopes, hands them to <see cref="DeliveryAttempts"/> (every call bounded by
/// <see cref="StreamCall"/>) and claims each result as it becomes final. The envelopes' memory belongs to the stream
/// until its call completes (<see cref="IBatchEventStream"/>'s promise): after a call that was abandoned (timed out or
/// stopped) the next batch gets a new array instead of clearing this one under the late reader. Used by the one loop.
/// </summary>
internal sealed class BatchDelivery : IDisposable
{
    private readonly BatchInHand _batch;
    private readonly DeliveryReporter _reporter;
    private readonly EnvelopeFactory _envelopes;
    private readonly StreamCall _call;
    private readonly DeliveryAttempts _attempts;
    private readonly DeliveryAttempts.Claim _claim;
    private readonly long[] _deadlines;
    private readonly long _deliveryTimeout; // in the TimeProvider's timestamp units; long.MaxValue for none
    private EventEnvelope[] _built;

    /// <summary>Creates it; build it with the caller's execution context suppressed, as its watchdog timer captures it.</summary>
    public BatchDelivery(IEventStream stream, DeliverySettings settings, EnvelopeFactory envelopes, TimeProvider timeProvider, DeliveryReporter reporter, StreamHealth health, Func<double> jitter, BatchInHand batch, CancellationToken stop)
    {
        _batch = batch;
        _reporter = reporter;
        _envelopes = envelopes;
        _built = new EventEnvelope[settings.MaxBatchSize];
        _deadlines = new long[settings.MaxBatchSize];
        _deliveryTimeout = Stamps.Of(settings.DeliveryTimeout, timeProvider);
        _claim = Claim;
        _call = new StreamCall(stream, timeProvider, settings.PublishTimeout, stop);
        _attempts = new DeliveryAttempts(_call, settings, timeProvider, reporter, health, jitter, stop);
    }

    /// <summary>Delivers the <paramref name="count"/> envelopes in hand; <see langword="false"/> when disposal gave up on them meanwhile.</summary>
    /// <remarks>Its state machine comes from a pool: a batch allocates nothing for it (the loop awaits each result once).</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> DeliverAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _built[i] = _envelopes.Create(_batch[i]);
            _deadlines[i] = Stamps.Add(_batch[i].QueuedAt, _deliveryTimeout);
        }

        long abandoned = _call.AbandonedCalls;
        try
        {
            return await _attempts.DeliverAsync(_batch, new ReadOnlyMemory<EventEnvelope>(_built, 0, count), new ReadOnlyMemory<long>(_deadlines, 0, count), _claim).ConfigureAwait(false);
        }
        finally
        {
            if (_call.AbandonedCalls == abandoned)
            {
                Array.Clear(_built, 0, count);
            }
            else
            {
                _built = new EventEnvelope[_built.Length]; // a late call may still read the old one
            }
        }
    }

    public void Dispose() => _call.Dispose();

    /// <summary>Claims the result of <paramref name="count"/> envelopes from <paramref name="from"/> and reports it, unless disposal took the batch.</summary>
    private bool Claim(int from, int count, in Settlement delivery)
    {
        if (!_batch.TryClaim(count, delivery, out PendingEnvelope first))
        {
            return false;
        }

        _reporter.Settled(first, count, _built[from], delivery); // a failure log names the first envelope
        return true;
    }
}
