namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>A feed whose reads are told: it reads what <see cref="Read"/> returns or throws, and says when it read.</summary>
internal sealed class ToldFeed(TimeProvider time) : ImmuneFeed("told", TimeSpan.FromSeconds(1), null, time)
{
    private TaskCompletionSource _read = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Func<int> Read { get; set; } = static () => 0;

    /// <summary>Gets a task that completes at the next read, successful or not.</summary>
    public Task NextRead => Volatile.Read(ref _read).Task;

    protected override ValueTask<int> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ValueTask.FromResult(Read());
        }
        finally
        {
            Interlocked.Exchange(ref _read, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }
}
