using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Immune.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Xunit.Abstractions;

namespace Immune.Samples.Tests;

/// <summary>
/// The watching side of a sharded fleet on a real three-node JetStream cluster: two consumer sample processes divide the
/// four shards by leases; one is killed with SIGKILL and the other takes its shards once its leases run out; the
/// survivor's fleet summary, read from every shard, equals what the 40 producers recorded (4,000 events, 40 critical,
/// 40 sources), and the pager receiver gets each of the 40 pages once.
/// </summary>
public sealed class ClusterFleetTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Shards = 4, Sources = 40, EventsPerSource = 100, CriticalAt = 50, KillAfter = 30;
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3), LeaseTtl = TimeSpan.FromSeconds(3);
    private readonly string _stream = $"IMMUNE_{Guid.NewGuid():N}";
    private readonly List<ConsumerProcess> _consumers = [];
    private NatsCluster _cluster = null!;
    private PagerReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _cluster = await NatsCluster.StartAsync();
        _receiver = await PagerReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (ConsumerProcess consumer in _consumers) await consumer.DisposeAsync();
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    private NatsJetStreamOptions Options() => new()
    {
        StreamName = _stream,
        SubjectPrefix = $"immune.{_stream.ToLowerInvariant()}",
        DeadLetterSubject = $"dead.{_stream.ToLowerInvariant()}",
        Shards = Shards,
        Replicas = 3,
        LeaseTtl = LeaseTtl,
    };

    /// <summary>The consumer sample as a user configures it for the cluster: its environment only.</summary>
    private async Task<ConsumerProcess> StartConsumerAsync()
    {
        NatsJetStreamOptions options = Options();
        ConsumerProcess consumer = await ConsumerProcess.StartAsync(
            ("Immune__Broker", "nats"),
            ("ConnectionStrings__Nats", _cluster.Url),
            ("Immune__Nats__StreamName", options.StreamName),
            ("Immune__Nats__SubjectPrefix", options.SubjectPrefix),
            ("Immune__Nats__DeadLetterSubject", options.DeadLetterSubject),
            ("Immune__Nats__Shards", Shards.ToString(CultureInfo.InvariantCulture)),
            ("Immune__Nats__Replicas", "3"),
            ("Immune__Nats__LeaseTtl", LeaseTtl.ToString("c", CultureInfo.InvariantCulture)),
            ("Immune__Nats__PollInterval", "00:00:00.050"),
            ("Immune__Pager__RoutingKey", "R0UTING-KEY-5ecret-0123456789"),
            ("Immune__Pager__Url", _receiver.Url));
        _consumers.Add(consumer);
        return consumer;
    }

    [Fact]
    public async Task TwoConsumerProcesses_OneKilled_TheOtherTakesItsShards_TheMergedSummaryAndThePagesMatchWhatWasPublished()
    {
        NatsConnection[] producers = [await _cluster.ConnectAsync(), await _cluster.ConnectAsync(), await _cluster.ConnectAsync()];
        await new NatsJetStreamEventStream(producers[0], Options()).EnsureStreamAsync();
        ConsumerProcess a = await StartConsumerAsync(), b = await StartConsumerAsync();
        var services = new ImmuneService[Sources];
        for (int i = 0; i < Sources; i++)
        {
            services[i] = new ImmuneService(new NatsJetStreamEventStream(producers[i % 3], Options()), new ImmuneOptions { Source = $"service-{i:00}", DeliveryTimeout = TimeSpan.FromHours(1) });
        }

        try
        {
            await PublishAsync(services, 0, KillAfter);
            INatsKVStore leases = await WaitForAsync(async () => await new NatsKVContext(new NatsJSContext(producers[0])).GetStoreAsync($"{_stream}_LEASES"), _ => true, "the leases' bucket");
            await WaitForAsync(() => HoldersAsync(leases), holders => holders.Count == Shards && holders.Contains(a.ProcessId) && holders.Contains(b.ProcessId), "the two consumers divide the shards");

            await b.StopAsync(); // SIGKILL: its leases stay until they run out
            long killed = Stopwatch.GetTimestamp();
            await WaitForAsync(() => HoldersAsync(leases), holders => holders.Count == Shards && holders.All(pid => pid == a.ProcessId), "the survivor takes every shard");
            TimeSpan takeover = Stopwatch.GetElapsedTime(killed);
            output.WriteLine($"the survivor held every shard {takeover.TotalSeconds:F1} s after the other consumer was killed (lease {LeaseTtl.TotalSeconds} s)");

            await PublishAsync(services, KillAfter, EventsPerSource);
            await Task.WhenAll(services.Select(s => s.FlushAsync())).WaitAsync(HangGuard);
            services.ShouldAllBe(s => s.GetDeliveryStats().Failed == 0 && s.GetDeliveryStats().Dropped == 0);

            // The survivor's fleet, read from every shard, equals what the producers recorded; each critical paged once.
            using var client = new HttpClient { BaseAddress = new Uri(a.Url) };
            ImmuneHealthSummary[] recorded = [.. services.Select(s => s.GetHealthSummary(TimeSpan.FromHours(1)))];
            JsonElement health = await WaitForAsync(
                () => client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health?minutes=60"),
                h => h.GetProperty("counts_by_severity").EnumerateObject().Sum(c => c.Value.GetInt32()) == Sources * EventsPerSource && h.GetProperty("pager").GetProperty("sent").GetInt64() >= Sources,
                "the survivor's view and pages");
            foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
            {
                health.GetProperty("counts_by_severity").GetProperty(severity.ToString().ToUpperInvariant()).GetInt32().ShouldBe(recorded.Sum(r => r.CountsBySeverity[severity]), $"{severity}");
            }

            (health.GetProperty("critical_issues").GetInt32(), health.GetProperty("source_count").GetInt32(), health.GetProperty("status").GetString()).ShouldBe((Sources, Sources, "CRITICAL"));
            List<(string Key, string Action)> pages = _receiver.Actions;
            pages.Count.ShouldBe(Sources);
            pages.Select(p => p.Key).ShouldBeUnique();
            pages.ShouldAllBe(p => p.Action == "trigger");
        }
        finally
        {
            foreach (ImmuneService service in services) await service.DisposeAsync();
        }
    }

    private static async Task PublishAsync(ImmuneService[] services, int fromRound, int toRound)
    {
        for (int round = fromRound; round < toRound; round++)
        {
            foreach (ImmuneService service in services)
            {
                await service.PublishAsync(round == CriticalAt
                    ? new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, $"{round}")
                    : new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, $"{round}"));
            }
        }
    }

    /// <summary>The process ids of the members holding each shard's lease (a member's id starts with its process id).</summary>
    private static async Task<List<int>> HoldersAsync(INatsKVStore leases)
    {
        var holders = new List<int>();
        for (int shard = 0; shard < Shards; shard++)
        {
            try
            {
                string member = (await leases.GetEntryAsync<string>($"shard.{shard}")).Value!;
                holders.Add(int.Parse(member[..member.IndexOf('-', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
            }
            catch (NatsKVException)
            {
                // not held now
            }
        }

        return holders;
    }

    /// <summary>
    /// Asks until the answer is <paramref name="done"/>, under the hang guard: the processes work in the background and
    /// the cluster has no event to wait on; each question is a round trip to the cluster or a host, which paces the asking.
    /// </summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> ask, Func<T, bool> done, string what)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (true)
        {
            try
            {
                T answer = await ask();
                if (done(answer)) return answer;
            }
            catch (Exception exception) when (exception is NatsException or HttpRequestException && !guard.IsCancellationRequested)
            {
                // not there yet
            }

            guard.IsCancellationRequested.ShouldBeFalse($"waited {HangGuard} for {what}");
        }
    }
}
