using System.Runtime.CompilerServices;

namespace Immune;

/// <summary>
/// A thread-safe, bounded, in-process <see cref="IBatchEventStream"/>: keeps the newest envelopes it received, lets in-process
/// consumers read them as they arrive, and serves as the ready test double for code that publishes immune events.
/// </summary>
public sealed class InMemoryEventStream : IBatchEventStream
{
    /// <summary>The default <see cref="Capacity"/>: 10,000 envelopes.</summary>
    public const int DefaultCapacity = 10_000;

    private readonly Gate _gate = new();
    private readonly EventEnvelope[] _ring;
    private long _received;
    private TaskCompletionSource? _arrived;

    /// <summary>Creates a stream that keeps the newest <paramref name="capacity"/> envelopes.</summary>
    /// <param name="capacity">How many envelopes to keep; the oldest leave first. Must be at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public InMemoryEventStream(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new EventEnvelope[capacity];
    }

    /// <summary>Gets how many envelopes the stream keeps.</summary>
    public int Capacity => _ring.Length;

    /// <summary>Gets how many envelopes the stream has received, including those it no longer keeps.</summary>
    public long ReceivedCount
    {
        get
        {
            lock (_gate)
            {
                return _received;
            }
        }
    }

    /// <summary>Gets a snapshot of the kept envelopes, in arrival order.</summary>
    public IReadOnlyList<EventEnvelope> Envelopes
    {
        get
        {
            lock (_gate)
            {
                long first = FirstKeptLocked();
                var snapshot = new EventEnvelope[_received - first];
                for (int i = 0; i < snapshot.Length; i++)
                {
                    snapshot[i] = _ring[(first + i) % _ring.Length];
                }

                return snapshot;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Completes synchronously. A cancelled token returns a cancelled task and keeps nothing.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="envelope"/> is null.</exception>
    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return Keep(new ReadOnlySpan<EventEnvelope>(in envelope), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Completes synchronously and keeps the whole batch at once, in order. A cancelled token returns a cancelled task and keeps nothing.</remarks>
    /// <exception cref="ArgumentException">The batch holds a null envelope; nothing of it is kept.</exception>
    public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        foreach (EventEnvelope envelope in envelopes.Span)
        {
            if (envelope is null)
            {
                throw new ArgumentException("The batch must not hold a null envelope.", nameof(envelopes));
            }
        }

        return Keep(envelopes.Span, cancellationToken);
    }

    private ValueTask Keep(ReadOnlySpan<EventEnvelope> envelopes, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        TaskCompletionSource? arrived;
        lock (_gate)
        {
            foreach (EventEnvelope envelope in envelopes)
            {
                _ring[_received % _ring.Length] = envelope;
                _received++;
            }

            arrived = _arrived;
            _arrived = null;
        }

        arrived?.TrySetResult();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Reads every kept envelope, oldest first, then each new one as it arrives, until <paramref name="cancellationToken"/>
    /// is cancelled. A reader that falls more than <see cref="Capacity"/> behind skips to the oldest kept envelope.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The envelopes, in arrival order.</returns>
    public async IAsyncEnumerable<EventEnvelope> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long next = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            EventEnvelope? envelope = null;
            Task? arrival = null;
            lock (_gate)
            {
                next = Math.Max(next, FirstKeptLocked());
                if (next < _received)
                {
                    envelope = _ring[next % _ring.Length];
                    next++;
                }
                else
                {
                    _arrived ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    arrival = _arrived.Task;
                }
            }

            if (envelope is not null)
            {
                yield return envelope;
            }
            else
            {
                await arrival!.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private long FirstKeptLocked() => Math.Max(0, _received - _ring.Length);
}
