using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Immune.Nats.Tests;

/// <summary>
/// Retention never drops what a group has not read: a full stream refuses new messages (discard new) and the producers
/// hold them as in an outage; the trim purges only what the groups acknowledged, so the stream gets room as the group
/// reads on; and when messages go anyway (an operator's purge), the readers count what they lost.
/// </summary>
public sealed class RetentionTests : NatsTest
{
    private NatsJetStreamOptions Small(Action<NatsJetStreamOptions>? more = null) => Options(o =>
    {
        o.MaxMessages = 200; // a stream made small for the test
        o.MinRetention = TimeSpan.Zero;
        o.BatchSize = 100;
        more?.Invoke(o);
    });

    [Fact]
    public async Task AGroupDownWhileMoreArriveThanTheStreamHolds_TheProducerHoldsTheRest_AndTheGroupReadsEveryOne_InOrder_NoneTwice()
    {
        NatsJetStreamOptions options = Small();
        var stream = new NatsJetStreamEventStream(Connection, options);
        var watched = new WatchedStream(stream);
        var group = new NatsConsumerGroup(Connection, null, options, NullLogger<NatsConsumerGroup>.Instance);
        await group.EnsureConsumerAsync();
        await using var service = new ImmuneService(watched, new ImmuneOptions { DeliveryTimeout = Timeout.InfiniteTimeSpan, MaxRetryDelay = TimeSpan.FromMilliseconds(50) });

        Task refused = watched.NextFailure();
        for (int i = 0; i < 500; i++)
        {
            await service.PublishAsync(Info($"e{i}")); // the group is down: 200 go in, the rest is refused and held
        }

        await refused.WaitAsync(HangGuard);
        var js = new NatsJSContext(Connection);
        (await js.GetStreamAsync(StreamName)).Info.State.Messages.ShouldBe(200); // full: nothing unread was discarded
        service.GetDeliveryStats().FailingSince.ShouldNotBeNull();

        var read = new List<string>();
        var ids = new HashSet<string>();
        INatsJSConsumer consumer = await js.GetConsumerAsync(StreamName, options.Group);
        using var guard = new CancellationTokenSource(HangGuard);
        while (read.Count < 500)
        {
            guard.Token.ThrowIfCancellationRequested();
            int before = read.Count;
            await foreach (NatsJSMsg<byte[]> message in consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 100 }, NATS.Client.Core.NatsRawSerializer<byte[]>.Default))
            {
                EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(message.Data!);
                if (ids.Add(envelope.Id)) read.Add(envelope.Payload.Message);
                await message.AckAsync(new AckOpts { DoubleAck = true }); // confirmed before the trim reads the floor
            }

            if (read.Count == before)
            {
                // The producer's next try after the trim: it gets in (room for what it holds), or it is refused again
                // (a fetch can come back empty while the stream still holds unread messages: read again), or it is
                // done already (its own trim made the room first).
                Task tried = Task.WhenAny(watched.NextSuccess(), watched.NextFailure(), service.FlushAsync());
                await stream.TrimAsync(); // what the group acknowledged goes
                await tried.WaitAsync(HangGuard);
            }
        }

        read.ShouldBe(Enumerable.Range(0, 500).Select(i => $"e{i}"));
        await service.FlushAsync().WaitAsync(HangGuard);
        (service.GetDeliveryStats().Delivered, service.GetDeliveryStats().Failed).ShouldBe((500L, 0L));
    }

    /// <summary>Forwards to a stream, and tells a test when a call next succeeds or fails.</summary>
    private sealed class WatchedStream(IBatchEventStream inner) : IBatchEventStream
    {
        private TaskCompletionSource _success = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task NextSuccess() => Volatile.Read(ref _success).Task;

        public Task NextFailure() => Volatile.Read(ref _failure).Task;

        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => inner.PublishAsync(envelope, cancellationToken);

        public async ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default)
        {
            try
            {
                await inner.PublishBatchAsync(envelopes, cancellationToken);
            }
            catch
            {
                Interlocked.Exchange(ref _failure, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                throw;
            }

            Interlocked.Exchange(ref _success, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    [Fact]
    public async Task AStreamWithoutGroups_KeepsItsCap_AndAGroupsUnreadMessagesAreNeverPurged()
    {
        NatsJetStreamOptions options = Small(o => { o.MaxMessages = -1; o.UngroupedMaxMessages = 50; });
        var stream = new NatsJetStreamEventStream(Connection, options);
        await ProduceAsync("checkout", async service => { for (int i = 0; i < 120; i++) await service.PublishAsync(Info($"e{i}")); }, o => { o.MaxMessages = -1; o.UngroupedMaxMessages = 50; });
        await stream.TrimAsync();
        var js = new NatsJSContext(Connection);
        (await js.GetStreamAsync(StreamName)).Info.State.Messages.ShouldBe(50);

        await new NatsConsumerGroup(Connection, null, options, NullLogger<NatsConsumerGroup>.Instance).EnsureConsumerAsync(); // a group, which has read nothing
        await stream.TrimAsync();
        (await js.GetStreamAsync(StreamName)).Info.State.Messages.ShouldBe(50);
    }

    [Fact]
    public async Task AnOperatorPurgesPastTheReaders_TheGroupAndTheFleetFeedCountWhatTheyLost()
    {
        NatsJetStreamOptions options = Small(o => { o.MaxMessages = -1; o.BatchSize = 10; });
        var group = new NatsConsumerGroup(Connection, null, options, NullLogger<NatsConsumerGroup>.Instance);
        await group.EnsureConsumerAsync();
        var feed = new NatsFleetFeed(Connection, new ImmuneFleetView(), options, NullLogger<NatsFleetFeed>.Instance);
        await ProduceAsync("checkout", async service => { for (int i = 0; i < 50; i++) await service.PublishAsync(Info($"e{i}")); }, o => o.MaxMessages = -1);
        (await group.ReadOnceAsync()).ShouldBe(10);
        (await feed.ReadOnceAsync()).ShouldBe(10);

        await new NatsJSContext(Connection).PurgeStreamAsync(StreamName, new StreamPurgeRequest { Keep = 15 }); // 25 unread of each go

        while (await group.ReadOnceAsync() > 0)
        {
        }

        while (await feed.ReadOnceAsync() > 0)
        {
        }

        (group.GetStatus().Lost, group.GetStatus().Read).ShouldBe((25L, 25L));
        (feed.GetStatus().Lost, feed.GetStatus().Read).ShouldBe((25L, 25L));
    }

    [Fact]
    public async Task AnOpenIncidentOlderThanMinRetention_AndRead_StaysForANewFeed_UntilItIsResolved()
    {
        NatsJetStreamOptions options = Small(o => o.MaxMessages = -1); // MinRetention zero: only the group's reading and the open incidents hold messages
        var stream = new NatsJetStreamEventStream(Connection, options);
        var group = new NatsConsumerGroup(Connection, null, options, NullLogger<NatsConsumerGroup>.Instance);
        await group.EnsureConsumerAsync();
        long critical = 0;
        await using var service = new ImmuneService(new NatsJetStreamEventStream(Connection, options), new ImmuneOptions { Source = "checkout" });
        for (int i = 0; i < 60; i++)
        {
            long id = await service.PublishAsync(i == 20 ? Critical("disk on fire") : Info($"e{i}"));
            critical = i == 20 ? id : critical;
        }

        await service.FlushAsync().WaitAsync(HangGuard);
        while (await group.ReadOnceAsync() > 0)
        {
        }

        var feed = new NatsFleetFeed(Connection, new ImmuneFleetView(), options, NullLogger<NatsFleetFeed>.Instance);
        while (await feed.ReadOnceAsync() > 0)
        {
        }

        await feed.WriteFloorsNowAsync(); // as it does every TrimInterval
        await stream.TrimAsync(); // the group read everything: all but what the open incident needs goes
        var js = new NatsJSContext(Connection);
        (await js.GetStreamAsync(StreamName)).Info.State.FirstSeq.ShouldBe(21UL); // the CRITICAL's first envelope on

        async Task<(NatsFleetFeed Feed, IReadOnlyList<ImmuneFleetIncident> Incidents)> RebuiltAsync()
        {
            var view = new ImmuneFleetView();
            var rebuilt = new NatsFleetFeed(Connection, view, options, NullLogger<NatsFleetFeed>.Instance);
            while (await rebuilt.ReadOnceAsync() > 0)
            {
            }

            return (rebuilt, view.GetIncidents());
        }

        (NatsFleetFeed second, IReadOnlyList<ImmuneFleetIncident> incidents) = await RebuiltAsync();
        incidents.Select(i => (i.EventId, i.Severity, i.Message)).ShouldBe([(critical, ImmuneSeverity.Critical, "disk on fire")]);

        await service.ChangeSeverityAsync(critical, ImmuneSeverity.Info); // resolved: nothing holds the stream back any more
        await service.FlushAsync().WaitAsync(HangGuard);
        while (await group.ReadOnceAsync() > 0)
        {
        }

        foreach (NatsFleetFeed reader in new[] { feed, second }) // each feed holds what its own view needs
        {
            while (await reader.ReadOnceAsync() > 0)
            {
            }

            await reader.WriteFloorsNowAsync();
        }

        await stream.TrimAsync();
        (await js.GetStreamAsync(StreamName)).Info.State.Messages.ShouldBe(0);
        (await RebuiltAsync()).Incidents.ShouldBeEmpty();
    }
}
