using System.Collections.Concurrent;
using Immune.Samples.Consumer;

namespace Immune.Samples.Tests;

/// <summary>Records what reached the pager: key, action, the time the envelope carries, and which envelope.</summary>
internal sealed class RecordingPager : IOnCallPager
{
    public sealed record Action(string Key, string Name, DateTimeOffset At, string EnvelopeId);

    private readonly ConcurrentQueue<Action> _sent = new();

    public IReadOnlyList<Action> Sent => [.. _sent];

    public Task PageAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => Record(dedupKey, "trigger", envelope);

    public Task ResolveAsync(string dedupKey, EventEnvelope envelope, CancellationToken cancellationToken)
        => Record(dedupKey, "resolve", envelope);

    private Task Record(string key, string name, EventEnvelope envelope)
    {
        _sent.Enqueue(new Action(key, name, envelope.Timestamp, envelope.Id));
        return Task.CompletedTask;
    }
}
