using System.Diagnostics;
using Immune.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Xunit.Abstractions;

namespace Immune.Nats.Tests;

/// <summary>
/// A sharded fleet on a real three-node JetStream cluster (4 shards, each an R3 stream): 40 sources over three producer
/// connections publish 4,000 events, 40 of them CRITICAL, while the leader of a shard's stream is killed with SIGKILL;
/// nothing is lost or stored twice, the restarted node catches up, the fleet view read from the shards equals what the
/// producers recorded, each CRITICAL is paged once by two members of the group; with two of three nodes down (stopped
/// with SIGTERM: nats-server 2.9 killed two at once with SIGKILL was seen to lose a shard's acknowledged messages) the
/// producers hold their envelopes, and deliver them once the nodes are back.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Shards = 4, Sources = 40, EventsPerSource = 100, CriticalAt = 50;
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);
    private readonly string _streamName = $"IMMUNE_{Guid.NewGuid():N}";
    private NatsCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await NatsCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private NatsJetStreamOptions Options() => new()
    {
        StreamName = _streamName,
        SubjectPrefix = $"immune.{_streamName.ToLowerInvariant()}",
        DeadLetterSubject = $"dead.{_streamName.ToLowerInvariant()}",
        Shards = Shards,
        Replicas = 3,
        PollInterval = TimeSpan.FromMilliseconds(20),
        BatchSize = 128,
    };

    [Fact]
    public async Task ThreeNodesFourShards_AShardsLeaderKilledMidPublish_TwoNodesDown_NothingLostOrDoubled_TheViewAndThePagesMatch()
    {
        NatsConnection[] producers = [await _cluster.ConnectAsync(), await _cluster.ConnectAsync(), await _cluster.ConnectAsync()];
        NatsJetStreamOptions options = Options();
        await new NatsJetStreamEventStream(producers[0], options).EnsureStreamAsync();
        var js = new NatsJSContext(producers[0]);

        var services = new ImmuneService[Sources];
        var streams = new TriedStream[Sources];
        for (int i = 0; i < Sources; i++)
        {
            services[i] = new ImmuneService(
                streams[i] = new TriedStream(new NatsJetStreamEventStream(producers[i % 3], options)),
                new ImmuneOptions { Source = $"service-{i:00}", DeliveryTimeout = TimeSpan.FromHours(1) }); // held through any outage of this test
        }

        try
        {
            // Publish 4,000 events; a third of the way in, kill the leader of shard 0's stream.
            var clock = Stopwatch.StartNew();
            TimeSpan slowestPublish = TimeSpan.Zero;
            NatsServer? killed = null;
            TimeSpan killedAt = TimeSpan.Zero;
            for (int round = 0; round < EventsPerSource; round++)
            {
                if (round == EventsPerSource / 3)
                {
                    killed = _cluster.Node((await js.GetStreamAsync(options.StreamNameOf(0))).Info.Cluster!.Leader!);
                    await killed.StopAsync();
                    killedAt = clock.Elapsed;
                }

                foreach (ImmuneService service in services)
                {
                    long started = Stopwatch.GetTimestamp();
                    await service.PublishAsync(round == CriticalAt ? Critical($"{round}") : Info($"{round}"));
                    slowestPublish = TimeSpan.FromTicks(Math.Max(slowestPublish.Ticks, Stopwatch.GetElapsedTime(started).Ticks));
                }
            }

            await Task.WhenAll(services.Select(s => s.FlushAsync())).WaitAsync(HangGuard);
            TimeSpan delivered = clock.Elapsed;
            string newLeader = (await js.GetStreamAsync(options.StreamNameOf(0))).Info.Cluster!.Leader!;
            newLeader.ShouldNotBe(killed!.Name);
            foreach (ImmuneService service in services)
            {
                ImmuneDeliveryStats stats = service.GetDeliveryStats();
                (stats.Delivered, stats.Failed, stats.Dropped, stats.Pending).ShouldBe((EventsPerSource + 1L, 0L, 0L, 0L), service.InstanceId);
            }

            output.WriteLine($"{Sources * (EventsPerSource + 1):N0} envelopes delivered in {delivered.TotalSeconds:F1} s; shard 0's leader {killed.Name} killed at {killedAt.TotalSeconds:F1} s, {newLeader} leads it now; slowest PublishAsync {slowestPublish.TotalMilliseconds:F1} ms");

            // The killed node comes back and catches up with every shard.
            await killed.RestartAsync();
            long restarted = Stopwatch.GetTimestamp();
            await WaitUntilAsync(async () => await CaughtUpAsync(js, options, killed.Name), "the restarted node catches up");
            output.WriteLine($"{killed.Name} caught up with every shard {Stopwatch.GetElapsedTime(restarted).TotalSeconds:F1} s after its restart");

            // Every envelope once, in its source's shard.
            List<EventEnvelope> stored = await ReadAllAsync(js, options);
            stored.Count.ShouldBe(Sources * (EventsPerSource + 1));
            stored.Select(e => e.Id).ShouldBeUnique();

            // The fleet view read from the four shards equals what the producers recorded.
            var fleet = new ImmuneFleetView();
            var feed = new NatsFleetFeed(producers[1], fleet, options, NullLogger<NatsFleetFeed>.Instance);
            while (await feed.ReadOnceAsync() > 0)
            {
            }

            ImmuneFleetSummary summary = fleet.GetHealthSummary(TimeSpan.FromHours(1));
            ImmuneHealthSummary[] recorded = [.. services.Select(s => s.GetHealthSummary(TimeSpan.FromHours(1)))];
            foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
            {
                summary.CountsBySeverity[severity].ShouldBe(recorded.Sum(r => r.CountsBySeverity[severity]), $"{severity}");
            }

            (summary.CountsBySeverity.Values.Sum(), summary.CriticalIssues, summary.Sources.Count).ShouldBe((Sources * EventsPerSource, Sources, Sources));

            // Two members of the group page each CRITICAL once.
            var pager = new RecordingPager();
            NatsConsumerGroup[] members = [.. producers[..2].Select(c => new NatsConsumerGroup(c, new ImmunePaging(pager, new NatsPagerLedger(c, options)), options, NullLogger<NatsConsumerGroup>.Instance))];
            while (await members[0].ReadOnceAsync() + await members[1].ReadOnceAsync() > 0)
            {
            }

            pager.Sent.Select(s => s.Key).ShouldBeUnique();
            pager.Sent.Count.ShouldBe(Sources);

            // Two of three nodes down: publishes are held, not failed, and delivered once the nodes are back.
            NatsServer[] down = [.. _cluster.Nodes.Where(n => n != killed)];
            Task[] triedAndFailed = [.. streams.Select(stream => stream.NextFailure())];
            foreach (NatsServer node in down)
            {
                await node.ShutdownAsync(); // SIGTERM: with two of three killed at once, JetStream 2.9 may lose what it had not yet written
            }

            foreach (ImmuneService service in services)
            {
                await service.PublishAsync(Info("while two nodes are down"));
            }

            await Task.WhenAll(triedAndFailed).WaitAsync(HangGuard); // every producer has tried and failed
            foreach (ImmuneService service in services)
            {
                ImmuneDeliveryStats stats = service.GetDeliveryStats();
                (stats.Delivered, stats.Failed, stats.Dropped, stats.Pending).ShouldBe((EventsPerSource + 1L, 0L, 0L, 1L), service.InstanceId);
            }

            long outage = Stopwatch.GetTimestamp();
            await Task.WhenAll(down.Select(node => node.RestartAsync()));
            await Task.WhenAll(services.Select(s => s.FlushAsync())).WaitAsync(HangGuard);
            output.WriteLine($"with two of three nodes down every producer held its envelope; all delivered {Stopwatch.GetElapsedTime(outage).TotalSeconds:F1} s after the nodes were started again");
            services.ShouldAllBe(s => s.GetDeliveryStats().Delivered == EventsPerSource + 2 && s.GetDeliveryStats().Failed == 0);
            List<EventEnvelope> all = await ReadAllAsync(js, options);
            all.Count.ShouldBe(Sources * (EventsPerSource + 2));
            all.Select(e => e.Id).ShouldBeUnique();
        }
        finally
        {
            foreach (ImmuneService service in services)
            {
                await service.DisposeAsync();
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> leads or is a current replica with no lag, on every shard's stream.</summary>
    private static async Task<bool> CaughtUpAsync(NatsJSContext js, NatsJetStreamOptions options, string name)
    {
        for (int shard = 0; shard < options.Shards; shard++)
        {
            ClusterInfo cluster = (await js.GetStreamAsync(options.StreamNameOf(shard))).Info.Cluster!;
            if (cluster.Leader != name && cluster.Replicas?.Any(r => r.Name == name && r.Current && r.Lag == 0 && !r.Offline) != true)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every message of every shard's stream, each checked to be in its source's shard on its subject; a read that stalls fails at the hang guard.</summary>
    private static async Task<List<EventEnvelope>> ReadAllAsync(NatsJSContext js, NatsJetStreamOptions options)
    {
        var read = new List<EventEnvelope>();
        using var guard = new CancellationTokenSource(HangGuard);
        for (int shard = 0; shard < options.Shards; shard++)
        {
            long total = 0, seen = 0;
            await WaitUntilAsync(async () => (total = (await js.GetStreamAsync(options.StreamNameOf(shard))).Info.State.Messages) >= 0, "the shard's stream answers");
            INatsJSConsumer consumer = await js.CreateOrderedConsumerAsync(options.StreamNameOf(shard), cancellationToken: guard.Token);
            await foreach (NatsJSMsg<byte[]> message in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, cancellationToken: guard.Token))
            {
                EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(message.Data!);
                options.ShardOf(envelope.Source).ShouldBe(shard, envelope.Source);
                message.Subject.ShouldBe(options.SubjectOf(envelope));
                read.Add(envelope);
                if (++seen == total)
                {
                    break;
                }
            }

            seen.ShouldBe(total, $"shard {shard}: the read stopped short");
        }

        return read;
    }

    /// <summary>Asks again until the cluster answers yes, under the hang guard: it has no event to wait on, and each question is a round trip to it, which paces the asking.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is NatsJSApiException or NatsException or OperationCanceledException && !guard.IsCancellationRequested)
            {
                // no leader yet: ask again
            }

            guard.IsCancellationRequested.ShouldBeFalse($"waited {HangGuard} for: {what}");
        }
    }

    /// <summary>The producer's transport, telling when a call of it fails: what the test waits on while the cluster cannot take a publish.</summary>
    private sealed class TriedStream(IBatchEventStream inner) : IBatchEventStream
    {
        private TaskCompletionSource _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a call that starts after this one fails.</summary>
        public Task NextFailure() => (_failure = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default) => Watch(inner.PublishAsync(envelope, cancellationToken));

        public ValueTask PublishBatchAsync(ReadOnlyMemory<EventEnvelope> envelopes, CancellationToken cancellationToken = default) => Watch(inner.PublishBatchAsync(envelopes, cancellationToken));

        private async ValueTask Watch(ValueTask call)
        {
            TaskCompletionSource failure = Volatile.Read(ref _failure);
            try
            {
                await call;
            }
            catch
            {
                failure.TrySetResult();
                throw;
            }
        }
    }

    private static NewImmuneEvent Critical(string message) => new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message);

    private static NewImmuneEvent Info(string message) => new(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, message);
}
