namespace Immune.Delivery;

/// <summary>
/// The waiters of <c>FlushAsync</c> and inline publishes, each for a sequence, released once everything up to it is
/// settled. Released in sequence order, with continuations that run asynchronously, never under the caller's lock.
/// Not thread-safe: the pipeline guards it with its lock.
/// </summary>
internal sealed class SettlementWaiters
{
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();

    /// <summary>Gets a task that completes once every envelope up to <paramref name="sequence"/> is settled.</summary>
    /// <param name="sequence">The last sequence to wait for.</param>
    /// <param name="settledThrough">The highest sequence up to which everything is settled now.</param>
    public Task WaitFor(long sequence, long settledThrough)
    {
        if (settledThrough >= sequence)
        {
            return Task.CompletedTask;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter, sequence);
        return waiter.Task;
    }

    /// <summary>Releases every waiter whose sequence is settled now.</summary>
    public void Release(long settledThrough)
    {
        while (_waiters.TryPeek(out TaskCompletionSource? waiter, out long sequence) && sequence <= settledThrough)
        {
            _waiters.Dequeue();
            waiter.TrySetResult();
        }
    }
}
