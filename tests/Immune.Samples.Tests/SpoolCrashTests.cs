namespace Immune.Samples.Tests;

/// <summary>
/// The durable spool against a real crash: a child process (tests/Immune.SpoolHost) publishes a burst into a spool
/// through a slow stream and is killed with SIGKILL; a service on the same directory must then deliver every envelope
/// of every event whose PublishAsync had returned, intact, CRITICAL ones included.
/// </summary>
public sealed class SpoolCrashTests : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "immune-spool-crash", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(400)]
    public async Task Kill_DuringABurst_EveryReturnedIdIsDeliveredByTheNextService(int killAfter)
    {
        HostProcess host = await RunAndKillAsync("publish", until: h => h.Count("published ") >= killAfter);

        List<(string, long, string)> delivered = await DeliverWhatIsLeftAsync();

        ShouldHaveDelivered([.. delivered, .. host.Delivered], host.Instance, host.Published);
    }

    [Fact]
    public async Task Kill_LeavingFiftyTimesTheNextServicesQueueCapacity_ItStreamsTheBacklogFromDiskAndDeliversEveryReturnedId()
    {
        HostProcess host = await RunAndKillAsync("publish", until: h => h.Count("published ") >= 1_500);

        List<(string, long, string)> delivered = await DeliverWhatIsLeftAsync(queueCapacity: 10, atLeast: 500);

        ShouldHaveDelivered([.. delivered, .. host.Delivered], host.Instance, host.Published);
    }

    [Fact]
    public async Task Kill_DuringTheReplayItself_TheNextServiceStillDeliversEverything()
    {
        HostProcess first = await RunAndKillAsync("publish", until: h => h.Count("published ") >= 300);

        // A second process starts replaying through its slow stream and is killed after a few deliveries.
        HostProcess replaying = await RunAndKillAsync("replay", until: h => h.Count("delivered ") >= 20);
        replaying.Count("delivered ").ShouldBeGreaterThanOrEqualTo(20);

        List<(string, long, string)> delivered = await DeliverWhatIsLeftAsync();

        ShouldHaveDelivered([.. delivered, .. first.Delivered, .. replaying.Delivered], first.Instance, first.Published);
    }

    /// <summary>Every envelope of every returned id reached a stream: the killed process's, or the next service's.</summary>
    internal static void ShouldHaveDelivered(List<(string Type, long EventId, string Instance)> delivered, string instance, List<long> published)
    {
        published.Count.ShouldBeGreaterThan(0);
        var mine = delivered.Where(e => e.Instance == instance).ToList();
        var publishedEvents = mine.Where(e => e.Type == ImmuneEventTypes.EventPublished).Select(e => e.EventId).ToHashSet();
        var criticalEvents = mine.Where(e => e.Type == ImmuneEventTypes.CriticalEvent).Select(e => e.EventId).ToHashSet();
        foreach (long id in published)
        {
            publishedEvents.ShouldContain(id, $"event {id} returned by PublishAsync was not delivered after the kill");
            if (id % 5 == 0)
            {
                criticalEvents.ShouldContain(id, $"the critical_event of event {id} was not delivered after the kill");
            }
        }
    }

    /// <summary>Runs the host on the spool, reads its lines until <paramref name="until"/> holds, then SIGKILLs it.</summary>
    private async Task<HostProcess> RunAndKillAsync(string mode, Func<HostProcess, bool> until)
    {
        using HostProcess host = HostProcess.Start(_directory, mode, "100000");
        try
        {
            await host.ReadUntilAsync(until);
        }
        finally
        {
            await host.KillAsync();
        }

        return host;
    }

    /// <summary>A service on the spool, as after a restart: what it delivers, each envelope checked intact.</summary>
    private async Task<List<(string, long, string)>> DeliverWhatIsLeftAsync(int queueCapacity = 1_000_000, long atLeast = 1)
    {
        var stream = new InMemoryEventStream(1_000_000);
        await using var service = new ImmuneService(stream, new ImmuneOptions { SpoolDirectory = _directory, QueueCapacity = queueCapacity });
        await service.FlushAsync().WaitAsync(HangGuard);
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.Replayed.ShouldBeGreaterThanOrEqualTo(atLeast);
        (stats.Dropped, stats.Failed).ShouldBe((0L, 0L), stats.ToString()); // the backlog beyond the queue waited on disk
        foreach (EventEnvelope envelope in stream.Envelopes)
        {
            envelope.Payload.Message.ShouldBe($"burst {envelope.Payload.EventId}"); // nothing corrupt
            ImmuneJson.DeserializeEnvelope(ImmuneJson.SerializeToUtf8Bytes(envelope)).Id.ShouldBe(envelope.Id);
        }

        return [.. stream.Envelopes.Select(e => (e.Type, e.Payload.EventId, e.Meta.InstanceId!))];
    }
}
