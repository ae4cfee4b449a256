namespace Immune.Spool;

/// <summary>
/// Turns at forcing the spool to the disk: one fsync (or deletion) at a time, outside every other lock. Callers that
/// wait for a turn wait together and wake together, and those whose records the finished fsync covered return
/// without taking one (group commit). Publishers wait without a thread (<see cref="TryEnter"/>); the sync timer and
/// tests may block (<see cref="Enter"/>).
/// </summary>
internal sealed class ForcingTurn
{
    private readonly object _gate = new(); // blocking waiters sleep on it (Monitor.Wait), so a plain object, not a Lock
    private bool _forcing;
    private long _durableThrough, _forced;
    private TaskCompletionSource? _released; // completes when the turn in progress is given back; made for the first waiter

    /// <summary>Gets the last sequence forced to the disk.</summary>
    public long DurableThrough => Volatile.Read(ref _durableThrough);

    /// <summary>Blocks until no turn is taken, and takes it (the sync timer, which must force the files itself).</summary>
    public void Enter()
    {
        lock (_gate)
        {
            while (_forcing)
            {
                Monitor.Wait(_gate);
            }

            _forcing = true;
        }
    }

    /// <summary>
    /// Takes the turn when no one holds it; otherwise gives <paramref name="released"/>, which completes when the turn in
    /// progress is given back (then look whether it covered you, and try again if not).
    /// </summary>
    public bool TryEnter(out Task released)
    {
        lock (_gate)
        {
            if (!_forcing)
            {
                _forcing = true;
                released = Task.CompletedTask;
                return true;
            }

            released = (_released ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            return false;
        }
    }

    /// <summary>Records that every sequence through <paramref name="through"/> is on the disk; the caller holds the turn.</summary>
    public void Durable(long through)
    {
        Volatile.Write(ref _durableThrough, through);
        Interlocked.Increment(ref _forced);
    }

    /// <summary>Gets how many times the files were forced to the disk.</summary>
    public long Forced => Volatile.Read(ref _forced);

    /// <summary>Gives the turn back and wakes every waiter.</summary>
    public void Exit()
    {
        TaskCompletionSource? released;
        lock (_gate)
        {
            _forcing = false;
            Monitor.PulseAll(_gate);
            (released, _released) = (_released, null);
        }

        released?.TrySetResult();
    }

    /// <summary>Takes the turn until the result is disposed (tests of group commit hold it as a slow fsync would).</summary>
    public IDisposable Hold()
    {
        Enter();
        return new Held(this);
    }

    private sealed class Held(ForcingTurn turn) : IDisposable
    {
        public void Dispose() => turn.Exit();
    }
}
