using System.Collections.Concurrent;

namespace Immune.Testing;

/// <summary>A pager that records every action it took, with the event's time, and can be told to be down or to refuse.</summary>
public sealed class RecordingPager : IImmunePager
{
    private readonly ConcurrentQueue<Action> _sent = new();
    private int _calls;

    public sealed record Action(string Name, string Key, string EnvelopeId, DateTimeOffset At);

    public IReadOnlyList<Action> Sent => [.. _sent];

    /// <summary>Gets or sets what a call throws instead of taking the action; null to take it.</summary>
    public Func<Exception?> Problem { get; set; } = static () => null;

    /// <summary>Gets how many calls were made, taken or not.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public event Action<Action>? Took;

    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => Take("trigger", dedupKey, envelope, ((ImmuneCriticalEventPayload)envelope.Payload).CriticalAt);

    public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => Take("resolve", dedupKey, envelope, ((ImmuneSeverityChangedPayload)envelope.Payload).ChangedAt);

    private Task Take(string name, string key, EventEnvelope envelope, DateTimeOffset at)
    {
        Interlocked.Increment(ref _calls);
        if (Problem() is { } problem)
        {
            return Task.FromException(problem);
        }

        var action = new Action(name, key, envelope.Id, at);
        _sent.Enqueue(action);
        Took?.Invoke(action);
        return Task.CompletedTask;
    }
}
