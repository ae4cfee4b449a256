using Immune.Redis;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

/// <summary>
/// Hold and forward against a real broker: a <c>redis-server</c> (durable: what it acknowledged survives its death) is
/// killed while a service publishes a steady stream of events with default options, and started again on the same
/// port. Nothing a caller got an id for may be lost: not in memory, and not with a spool when the producer itself is
/// killed with SIGKILL during the outage.
/// </summary>
public sealed class BrokerOutageTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);
    private readonly string _stream = $"immune:outage:{Guid.NewGuid():N}";
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "immune-outage", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    [Fact]
    public async Task RedisOutage_DefaultOptions_EveryReturnedIdReachesTheStreamOnceDeduplicatedInRecordOrder()
    {
        await using RedisServer redis = await RedisServer.StartAsync(durable: true);
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(redis.ConnectionString));
        await using var service = new ImmuneService(new RedisStreamsEventStream(connection, new RedisStreamsOptions { StreamKey = _stream }));
        await using var producer = new SteadyProducer(service);

        await producer.Reached(500);
        await redis.StopAsync();
        int beforeOutage = producer.Count;
        await Task.Delay(Outage); // the outage itself: a span of wall time, not a wait for background work
        int duringOutage = producer.Count - beforeOutage;
        service.GetDeliveryStats().FailingSince.ShouldNotBeNull();
        await redis.RestartAsync();
        await producer.Reached(producer.Count + 500);
        List<long> published = await producer.StopAsync();
        await service.FlushAsync().WaitAsync(HangGuard);

        output.WriteLine($"published {published.Count} ids, {duringOutage} during the {Outage.TotalSeconds:0}-second outage; stats {service.GetDeliveryStats()}");
        duringOutage.ShouldBeGreaterThan(100); // a real outage with a producer behind it (its pace depends on the machine: ~250/s here)
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.Failed, stats.Dropped, stats.Pending, stats.FailingSince).ShouldBe((0L, 0L, 0L, (DateTimeOffset?)null), stats.ToString());
        stats.Delivered.ShouldBe(stats.Queued);

        List<EventEnvelope> envelopes = await ReadDeduplicatedAsync(connection);
        envelopes.Where(e => e.Type == ImmuneEventTypes.EventPublished).Select(e => e.Payload.EventId).ShouldBe(published);
        envelopes.Where(e => e.Type == ImmuneEventTypes.CriticalEvent).Select(e => e.Payload.EventId).ShouldBe(published.Where(id => id % 10 == 0));
        envelopes.Select(e => e.Payload.EventId).ShouldBeInOrder(SortDirection.Ascending); // first occurrences in record order
    }

    [Fact]
    public async Task RedisOutage_WithSpoolProducerKilledDuringIt_TheNextServiceDeliversEveryReturnedId()
    {
        await using RedisServer redis = await RedisServer.StartAsync(durable: true);
        using HostProcess host = HostProcess.Start(_spool, "redis", "1000000", redis.ConnectionString, _stream);
        await host.ReadUntilAsync(h => h.Count("published ") >= 300);
        await redis.StopAsync();
        int beforeOutage = host.Count("published ");
        await host.ReadUntilAsync(h => h.Count("published ") >= beforeOutage + 1_500); // publishing on through the outage
        await host.KillAsync();
        await redis.RestartAsync();

        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(redis.ConnectionString));
        await using (var next = new ImmuneService(new RedisStreamsEventStream(connection, new RedisStreamsOptions { StreamKey = _stream }), new ImmuneOptions { SpoolDirectory = _spool }))
        {
            await next.FlushAsync().WaitAsync(HangGuard);
            ImmuneDeliveryStats stats = next.GetDeliveryStats();
            output.WriteLine($"killed after {host.Published.Count} returned ids ({host.Count("published ") - beforeOutage} during the outage); the next service replayed {stats.Replayed}");
            stats.Replayed.ShouldBeGreaterThan(1_500);
            (stats.Failed, stats.Dropped).ShouldBe((0L, 0L), stats.ToString());
        }

        List<EventEnvelope> envelopes = await ReadDeduplicatedAsync(connection);
        SpoolCrashTests.ShouldHaveDelivered([.. envelopes.Select(e => (e.Type, e.Payload.EventId, e.Meta.InstanceId!))], host.Instance, host.Published);
    }

    /// <summary>Reads the whole stream and keeps each envelope id's first entry: what a consumer deduplicating by id sees.</summary>
    private async Task<List<EventEnvelope>> ReadDeduplicatedAsync(ConnectionMultiplexer connection)
    {
        StreamEntry[] entries = await connection.GetDatabase().StreamRangeAsync(_stream);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. entries.Select(e => ImmuneJson.DeserializeEnvelope((string)e["envelope"]!)).Where(e => seen.Add(e.Id))];
    }

    /// <summary>Publishes about 500 events a second, every tenth CRITICAL, and keeps the ids PublishAsync returned.</summary>
    private sealed class SteadyProducer : IAsyncDisposable
    {
        private readonly ImmuneService _service;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<long> _published = [];
        private readonly Task _running;
        private (int Target, TaskCompletionSource Signal)? _waiter;

        public SteadyProducer(ImmuneService service)
        {
            _service = service;
            _running = Task.Run(RunAsync);
        }

        public int Count
        {
            get { lock (_published) return _published.Count; }
        }

        /// <summary>Completes once <paramref name="count"/> ids were returned.</summary>
        public Task Reached(int count)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_published)
            {
                if (_published.Count >= count) return Task.CompletedTask;
                _waiter = (count, signal);
            }

            return signal.Task.WaitAsync(HangGuard);
        }

        public async Task<List<long>> StopAsync()
        {
            await _stop.CancelAsync();
            await _running.WaitAsync(HangGuard);
            lock (_published) return [.. _published];
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running.WaitAsync(HangGuard);
            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            // The producer's rate is the scenario (a steady service, not a burst): a tick every 2 ms, one event a tick.
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(2));
            for (int i = 1; !_stop.IsCancellationRequested; i++)
            {
                NewImmuneEvent e = new(i % 10 == 0 ? ImmuneSeverity.Critical : ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, $"steady {i}");
                long id = await _service.PublishAsync(e);
                lock (_published)
                {
                    _published.Add(id);
                    if (_waiter is { } waiter && _published.Count >= waiter.Target)
                    {
                        waiter.Signal.TrySetResult();
                        _waiter = null;
                    }
                }

                try
                {
                    await pace.WaitForNextTickAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
