using System.Collections.Concurrent;

namespace Immune.Tests.TestDoubles;

/// <summary>An <see cref="IBatchEventStream"/> whose behaviour per call is scripted; it records every batch it was handed.</summary>
internal sealed class ScriptedBatchStream(Func<int, IReadOnlyList<EventEnvelope>, CancellationToken, ValueTask>? behaviour = null) : IBatchEventStream
{
    private readonly ConcurrentQueue<EventEnvelope[]> _calls = new();
    private readonly ConcurrentQueue<EventEnvelope> _accepted = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _signals = new();
    private int _count;

    /// <summary>Gets every batch handed over, in call order (copies: the memory is the service's).</summary>
    public IReadOnlyList<EventEnvelope[]> Calls => [.. _calls];

    public IReadOnlyList<EventEnvelope> Accepted => [.. _accepted];

    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
        => throw new InvalidOperationException("A batch stream must be handed batches.");

    public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
    {
        EventEnvelope[] batch = envelopes.ToArray();
        int number = Interlocked.Increment(ref _count);
        _calls.Enqueue(batch);
        _signals.GetOrAdd(number, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        if (behaviour is not null)
        {
            await behaviour(number, batch, cancellationToken);
        }

        foreach (EventEnvelope envelope in batch)
        {
            _accepted.Enqueue(envelope);
        }
    }

    /// <summary>Completes when the stream has been called <paramref name="number"/> times.</summary>
    public Task WhenCalled(int number)
        => _signals.GetOrAdd(number, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(Events.HangGuard);
}
