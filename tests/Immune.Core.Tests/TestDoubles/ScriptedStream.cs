using System.Collections.Concurrent;

namespace Immune.Tests.TestDoubles;

/// <summary>
/// An <see cref="IEventStream"/> whose behaviour per call is scripted; it records every call and every envelope it
/// accepted, and lets a test wait for the n-th call without sleeping.
/// </summary>
internal sealed class ScriptedStream(Func<ScriptedStream.Call, ValueTask>? behaviour = null) : IEventStream
{
    private readonly ConcurrentQueue<EventEnvelope> _accepted = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<Call>> _calls = new();
    private int _callCount;

    public sealed record Call(int Number, EventEnvelope Envelope, CancellationToken Token);

    public IReadOnlyList<EventEnvelope> Accepted => [.. _accepted];

    public int CallCount => Volatile.Read(ref _callCount);

    public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        int number = Interlocked.Increment(ref _callCount);
        var call = new Call(number, envelope, cancellationToken);
        CallSignal(number).TrySetResult(call);
        ValueTask result = behaviour?.Invoke(call) ?? ValueTask.CompletedTask;
        return result.IsCompletedSuccessfully ? Accept(envelope) : AcceptWhenDone(result, envelope);
    }

    /// <summary>Completes when the stream has been called <paramref name="number"/> times.</summary>
    public Task<Call> WhenCalled(int number) => CallSignal(number).Task.WaitAsync(TimeSpan.FromSeconds(30));

    private TaskCompletionSource<Call> CallSignal(int number)
        => _calls.GetOrAdd(number, static _ => new TaskCompletionSource<Call>(TaskCreationOptions.RunContinuationsAsynchronously));

    private ValueTask Accept(EventEnvelope envelope)
    {
        _accepted.Enqueue(envelope);
        return ValueTask.CompletedTask;
    }

    private async ValueTask AcceptWhenDone(ValueTask result, EventEnvelope envelope)
    {
        await result;
        _accepted.Enqueue(envelope);
    }

    /// <summary>A stream that waits on a gate before accepting; the gate ignores the token when <paramref name="ignoreToken"/>.</summary>
    public static ScriptedStream Gated(TaskCompletionSource gate, bool ignoreToken = false)
        => new(call => new ValueTask(ignoreToken ? gate.Task : gate.Task.WaitAsync(call.Token)));

    /// <summary>A stream that never completes and ignores its token.</summary>
    public static ScriptedStream Hung() => new(static _ => new ValueTask(new TaskCompletionSource().Task));
}
