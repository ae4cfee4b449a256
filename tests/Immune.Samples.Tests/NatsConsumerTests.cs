using System.Net.Http.Json;
using System.Text.Json;
using Immune.Samples.Consumer;
using Immune.Samples.Nats;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Immune.Samples.Tests;

/// <summary>
/// The consumer side on a real <c>nats-server</c>: a durable pull consumer shared by a group (what a dead consumer held
/// is redelivered to another), the same pager logic as on Redis with its ledger in JetStream key-value, the fleet view
/// fed by an ordered consumer equal to what the producers recorded, and the consumer host choosing NATS by configuration.
/// </summary>
public sealed class NatsConsumerTests : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);
    private readonly NatsJetStreamOptions _stream = new() { StreamName = $"IMMUNE_{Guid.NewGuid():N}", SubjectPrefix = $"immune.{Guid.NewGuid():N}" };
    private NatsServer _server = null!;
    private NatsConnection _connection = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync();
        _connection = await _server.ConnectAsync();
        await new NatsJetStreamEventStream(_connection, _stream).EnsureStreamAsync();
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Group_AConsumerDiesHoldingUnackedMessages_TheyAreRedeliveredToTheOtherAndPagedOnce()
    {
        var ids = new List<long>();
        string instance = await ProduceAsync("checkout", async service =>
        {
            for (int i = 0; i < 20; i++)
            {
                ids.Add(await service.PublishAsync(new NewImmuneEvent(i % 10 == 3 ? ImmuneSeverity.Critical : ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"event {i}")));
            }
        });
        var pager = new RecordingPager();
        ImmuneStreamConsumerOptions options = Options("survivor", reclaimAfter: TimeSpan.FromSeconds(1));
        NatsStreamConsumer survivor = Consumer(options, pager);
        await survivor.EnsureConsumerAsync();

        // The doomed consumer takes ten messages from the group and dies without acknowledging them.
        INatsJSConsumer group = await new NatsJSContext(_connection).GetConsumerAsync(_stream.StreamName, options.Group);
        int held = 0;
        await foreach (NatsJSMsg<byte[]> _ in group.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 10 }, NatsRawSerializer<byte[]>.Default))
        {
            held++;
        }

        held.ShouldBe(10);
        int handled = 0;
        using var guard = new CancellationTokenSource(HangGuard);
        while (handled < 22)
        {
            handled += await survivor.ProcessBatchAsync(guard.Token); // the ten come back once their ack wait (1 s) has passed
            await Task.Yield();
        }

        handled.ShouldBe(22);
        survivor.PublishedBySeverity.Values.Sum().ShouldBe(20);
        pager.Sent.Select(s => (s.Key, s.Name)).ShouldBe([($"immune_critical_checkout_{instance}_{ids[3]}", "trigger"), ($"immune_critical_checkout_{instance}_{ids[13]}", "trigger")], ignoreOrder: true);
        INatsJSConsumer after = await new NatsJSContext(_connection).GetConsumerAsync(_stream.StreamName, options.Group);
        (after.Info.NumAckPending, after.Info.NumPending).ShouldBe((0, 0UL));
    }

    [Fact]
    public async Task Pager_OnNats_OneTriggerPerEscalationOneResolvePerResolution_NothingForRedeliveredCopies()
    {
        string instance = await ProduceAsync("checkout", async service =>
        {
            long a = await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "a"));
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Info);
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Critical);
        });
        await CopyEveryMessageWithoutItsIdAsync(); // copies the server cannot recognise: only the consumer's ledger stops them
        var pager = new RecordingPager();
        NatsStreamConsumer first = Consumer(Options("c1"), pager), second = Consumer(Options("c2"), pager);
        await first.EnsureConsumerAsync();

        await Task.WhenAll(Task.Run(() => DrainAsync(first)), Task.Run(() => DrainAsync(second))).WaitAsync(HangGuard);

        string key = $"immune_critical_checkout_{instance}_1";
        pager.Sent.Select(s => s.EnvelopeId).ShouldBeUnique();
        pager.Sent.Select(s => s.At).ShouldBeInOrder(SortDirection.Ascending);
        pager.Sent.ShouldAllBe(s => s.Key == key);
        pager.Sent[^1].Name.ShouldBe("trigger"); // the event is CRITICAL again
        pager.Sent.Count.ShouldBeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task Pager_OnNats_InOrder_EachActionOnce()
    {
        string instance = await ProduceAsync("checkout", async service =>
        {
            long a = await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "a"));
            long b = await service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "b"));
            await service.ChangeSeverityAsync(b, ImmuneSeverity.Critical);
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Info);
            await service.ChangeSeverityAsync(a, ImmuneSeverity.Critical);
        });
        await CopyEveryMessageWithoutItsIdAsync();
        var pager = new RecordingPager();
        NatsStreamConsumer solo = Consumer(Options("solo"), pager);
        await solo.EnsureConsumerAsync();

        await DrainAsync(solo).WaitAsync(HangGuard);

        string a = $"immune_critical_checkout_{instance}_1", b = $"immune_critical_checkout_{instance}_2";
        pager.Sent.Select(s => (s.Key, s.Name)).ShouldBe([(a, "trigger"), (b, "trigger"), (a, "resolve"), (a, "trigger")]);
    }

    [Fact]
    public async Task FleetFeed_TwoSourcesInAnyOrder_SummaryEqualsWhatTheProducersRecorded()
    {
        var random = new Random(23);
        var records = new List<ImmuneHealthSummary>();
        foreach (string source in new[] { "checkout", "payments", "checkout" })
        {
            await ProduceAsync(source, async service =>
            {
                for (int i = 0; i < 60; i++)
                {
                    IReadOnlyList<ImmuneEvent> recent = service.GetRecentEvents(TimeSpan.MaxValue);
                    if (recent.Count > 0 && random.Next(3) == 0)
                    {
                        await service.ChangeSeverityAsync(recent[random.Next(recent.Count)].Id, (ImmuneSeverity)random.Next(3));
                    }
                    else
                    {
                        await service.PublishAsync(new NewImmuneEvent((ImmuneSeverity)random.Next(3), (ImmuneEventType)random.Next(3), $"step {i}"));
                    }
                }

                await service.FlushAsync();
                records.Add(service.GetHealthSummary(TimeSpan.FromHours(1)));
            });
        }

        var fleet = new ImmuneFleetView();
        var feed = new NatsFleetFeed(_connection, _stream, fleet, Options("feed"), NullLogger<NatsFleetFeed>.Instance);
        while (await feed.ReadBatchAsync() > 0)
        {
        }

        ImmuneFleetSummary summary = fleet.GetHealthSummary(TimeSpan.FromHours(1));
        summary.ActiveIssues.ShouldBe(records.Sum(r => r.ActiveIssues));
        summary.CriticalIssues.ShouldBe(records.Sum(r => r.CriticalIssues));
        foreach (ImmuneSeverity severity in Enum.GetValues<ImmuneSeverity>())
        {
            summary.CountsBySeverity[severity].ShouldBe(records.Sum(r => r.CountsBySeverity[severity]));
        }

        summary.Sources.Select(s => (s.Source, s.Instances)).ShouldBe([("checkout", 2), ("payments", 1)]);
    }

    [Fact]
    public async Task ConsumerHost_BrokerNats_ServesTheFleetAndItsHealth_AndRefusesAnUnknownBroker()
    {
        await using WebApplicationFactory<ImmuneFleetFeed> host = new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web
            .UseSetting("Immune:Broker", "nats")
            .UseSetting("ConnectionStrings:Nats", _server.Url)
            .UseSetting("Immune:Nats:StreamName", _stream.StreamName)
            .UseSetting("Immune:Nats:SubjectPrefix", _stream.SubjectPrefix));
        HttpClient client = host.CreateClient();
        await ProduceAsync("checkout", service => service.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "breach")).AsTask());

        using var guard = new CancellationTokenSource(HangGuard);
        JsonElement health;
        do
        {
            await Task.Yield();
            health = await client.GetFromJsonAsync<JsonElement>("/api/immune/fleet/health", guard.Token);
        }
        while (health.GetProperty("critical_issues").GetInt32() < 1);

        JsonElement report;
        do
        {
            await Task.Yield();
            report = await (await client.GetAsync("/healthz", guard.Token)).Content.ReadFromJsonAsync<JsonElement>(guard.Token);
        }
        while (report.GetProperty("status").GetString() != "Healthy"); // the host creates its consumer when its loop starts

        report.GetProperty("checks").GetProperty("immune-consumer").GetProperty("data").GetProperty("stream").GetString().ShouldBe(_stream.StreamName);

        await using WebApplicationFactory<ImmuneFleetFeed> wrong = new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web.UseSetting("Immune:Broker", "kafka"));
        Should.Throw<InvalidOperationException>(() => wrong.CreateClient()).Message.ShouldBe("Immune:Broker must be 'redis' or 'nats' (was 'kafka').");
    }

    private ImmuneStreamConsumerOptions Options(string name, TimeSpan? reclaimAfter = null)
        => new() { ConsumerName = name, ReclaimAfter = reclaimAfter ?? TimeSpan.FromMinutes(5), BatchSize = 4, DeadLetterKey = $"{_stream.SubjectPrefix}-dead" };

    private NatsStreamConsumer Consumer(ImmuneStreamConsumerOptions options, IOnCallPager pager)
        => new(_connection, _stream, options, new EnvelopeHandler(pager, new NatsPagerLedger(_connection, _stream, options, TimeProvider.System)), NullLogger<NatsStreamConsumer>.Instance);

    private static async Task DrainAsync(NatsStreamConsumer consumer)
    {
        while (await consumer.ProcessBatchAsync() > 0)
        {
        }
    }

    private async Task<string> ProduceAsync(string source, Func<ImmuneService, Task> produce)
    {
        await using var service = new ImmuneService(new NatsJetStreamEventStream(_connection, _stream), new ImmuneOptions { Source = source });
        await produce(service);
        await service.FlushAsync().WaitAsync(HangGuard);
        return service.InstanceId;
    }

    /// <summary>Publishes a copy of every message without a message id: a duplicate the server cannot drop.</summary>
    private async Task CopyEveryMessageWithoutItsIdAsync()
    {
        var js = new NatsJSContext(_connection);
        long total = (long)(await js.GetStreamAsync(_stream.StreamName)).Info.State.Messages;
        INatsJSConsumer ordered = await js.CreateOrderedConsumerAsync(_stream.StreamName);
        var copies = new List<(string Subject, byte[] Data)>();
        await foreach (NatsJSMsg<byte[]> message in ordered.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = (int)total }, NatsRawSerializer<byte[]>.Default))
        {
            copies.Add((message.Subject, message.Data!));
        }

        copies.Count.ShouldBe((int)total);
        foreach ((string subject, byte[] data) in copies)
        {
            (await js.PublishAsync(subject, data, NatsRawSerializer<byte[]>.Default)).EnsureSuccess();
        }
    }
}
