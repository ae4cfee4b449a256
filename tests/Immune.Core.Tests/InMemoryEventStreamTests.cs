namespace Immune.Tests;

public sealed class InMemoryEventStreamTests
{
    private static EventEnvelope Envelope(long eventId) => new(
        $"evt_immune_0_{eventId:x16}",
        ImmuneEventTypes.EventPublished,
        "immune_service",
        null,
        DateTimeOffset.UnixEpoch,
        new ImmuneEventPublishedPayload(eventId, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", DateTimeOffset.UnixEpoch),
        new EventMeta("c"));

    [Fact]
    public async Task PublishAsync_KeepsEnvelopesInArrivalOrder_AndTheSnapshotDoesNotChangeLater()
    {
        var stream = new InMemoryEventStream();
        await stream.PublishAsync(Envelope(1));
        await stream.PublishAsync(Envelope(2));

        IReadOnlyList<EventEnvelope> snapshot = stream.Envelopes;
        await stream.PublishAsync(Envelope(3));

        snapshot.Select(e => e.Payload.EventId).ShouldBe([1L, 2L]);
        stream.Envelopes.Select(e => e.Payload.EventId).ShouldBe([1L, 2L, 3L]);
    }

    [Fact]
    public async Task PublishAsync_BeyondCapacity_KeepsTheNewest()
    {
        var stream = new InMemoryEventStream(capacity: 2);

        for (int i = 1; i <= 5; i++)
        {
            await stream.PublishAsync(Envelope(i));
        }

        stream.Envelopes.Select(e => e.Payload.EventId).ShouldBe([4L, 5L]);
        stream.ReceivedCount.ShouldBe(5);
    }

    [Fact]
    public async Task PublishAsync_CancelledToken_ReturnsCancelledAndKeepsNothing()
    {
        var stream = new InMemoryEventStream();

        await Should.ThrowAsync<OperationCanceledException>(async () => await stream.PublishAsync(Envelope(1), new CancellationToken(canceled: true)));

        stream.Envelopes.ShouldBeEmpty();
        Should.Throw<ArgumentNullException>(() => stream.PublishAsync(null!));
        Should.Throw<ArgumentOutOfRangeException>(() => new InMemoryEventStream(0));
    }

    [Fact]
    public async Task ReadAllAsync_YieldsKeptEnvelopesThenNewOnesAsTheyArrive()
    {
        var stream = new InMemoryEventStream();
        await stream.PublishAsync(Envelope(1));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = new List<long>();
        var gotFirst = new TaskCompletionSource();

        Task reading = Task.Run(async () =>
        {
            await foreach (EventEnvelope envelope in stream.ReadAllAsync(cancel.Token))
            {
                read.Add(envelope.Payload.EventId);
                gotFirst.TrySetResult();
                if (read.Count == 3)
                {
                    return;
                }
            }
        });
        await gotFirst.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stream.PublishAsync(Envelope(2));
        await stream.PublishAsync(Envelope(3));
        await reading.WaitAsync(TimeSpan.FromSeconds(30));

        read.ShouldBe([1L, 2L, 3L]);
    }

    [Fact]
    public async Task ReadAllAsync_Cancelled_Ends()
    {
        var stream = new InMemoryEventStream();
        using var cancel = new CancellationTokenSource();
        IAsyncEnumerator<EventEnvelope> reader = stream.ReadAllAsync(cancel.Token).GetAsyncEnumerator();

        ValueTask<bool> next = reader.MoveNextAsync();
        await cancel.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(async () => await next);
    }

    [Fact]
    public async Task PublishAsync_ConcurrentPublishers_KeepsEveryEnvelope()
    {
        var stream = new InMemoryEventStream(capacity: 40_000);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                await stream.PublishAsync(Envelope((t * 10_000) + i));
            }
        })));

        stream.Envelopes.Select(e => e.Payload.EventId).Distinct().Count().ShouldBe(40_000);
    }
}
