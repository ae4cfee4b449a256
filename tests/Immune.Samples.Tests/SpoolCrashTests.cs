using System.Diagnostics;

namespace Immune.Samples.Tests;

/// <summary>
/// The durable spool against a real crash: a child process (tests/Immune.SpoolHost) publishes a burst into a spool
/// through a slow stream and is killed with SIGKILL; a service on the same directory must then deliver every envelope
/// of every event whose PublishAsync had returned, intact, CRITICAL ones included.
/// </summary>
public sealed class SpoolCrashTests : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
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
        (string instance, List<long> published, List<string> lines) = await RunAndKillAsync("publish", until: lines => lines.Count(l => l.StartsWith("published ", StringComparison.Ordinal)) >= killAfter);

        List<(string, long, string)> delivered = await DeliverWhatIsLeftAsync();

        ShouldHaveDelivered([.. delivered, .. Delivered(lines)], instance, published);
    }

    [Fact]
    public async Task Kill_DuringTheReplayItself_TheNextServiceStillDeliversEverything()
    {
        (string instance, List<long> published, List<string> first) = await RunAndKillAsync("publish", until: lines => lines.Count(l => l.StartsWith("published ", StringComparison.Ordinal)) >= 300);

        // A second process starts replaying through its slow stream and is killed after a few deliveries.
        (_, _, List<string> replaying) = await RunAndKillAsync("replay", until: lines => lines.Count(l => l.StartsWith("delivered ", StringComparison.Ordinal)) >= 20);
        replaying.Count(l => l.StartsWith("delivered ", StringComparison.Ordinal)).ShouldBeGreaterThanOrEqualTo(20);

        List<(string, long, string)> delivered = await DeliverWhatIsLeftAsync();

        ShouldHaveDelivered([.. delivered, .. Delivered(first), .. Delivered(replaying)], instance, published);
    }

    /// <summary>Every envelope of every returned id reached a stream: the killed process's, or the next service's.</summary>
    private static void ShouldHaveDelivered(List<(string Type, long EventId, string Instance)> delivered, string instance, List<long> published)
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

    private static IEnumerable<(string, long, string)> Delivered(List<string> lines)
        => lines.Where(l => l.StartsWith("delivered ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(p => (p[1], long.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture), p[3]));

    /// <summary>Runs the host on the spool, reads its lines until <paramref name="until"/> holds, then SIGKILLs it.</summary>
    private async Task<(string Instance, List<long> Published, List<string> Lines)> RunAndKillAsync(string mode, Func<List<string>, bool> until)
    {
        string host = Path.Combine(AppContext.BaseDirectory.Replace("Immune.Samples.Tests", "Immune.SpoolHost", StringComparison.Ordinal), "Immune.SpoolHost.dll");
        var start = new ProcessStartInfo(Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet")
        {
            ArgumentList = { host, _directory, mode, "100000" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start)!;
        var lines = new List<string>();
        using var guard = new CancellationTokenSource(HangGuard);
        try
        {
            while (!until(lines))
            {
                string? line = await process.StandardOutput.ReadLineAsync(guard.Token);
                if (line is null)
                {
                    throw new InvalidOperationException($"The host ended early: {await process.StandardError.ReadToEndAsync()}");
                }

                lines.Add(line);
            }
        }
        finally
        {
            process.Kill(); // SIGKILL on Unix: no finally blocks, no flush, no disposal
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(HangGuard);
        }

        // What the host wrote before it died was written after PublishAsync returned: it counts too.
        string rest = await process.StandardOutput.ReadToEndAsync();
        lines.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        string instance = lines[0]["instance ".Length..];
        var published = lines.Where(l => l.StartsWith("published ", StringComparison.Ordinal)).Select(l => long.Parse(l["published ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return (instance, published, lines);
    }

    /// <summary>A service on the spool, as after a restart: what it delivers, each envelope checked intact.</summary>
    private async Task<List<(string, long, string)>> DeliverWhatIsLeftAsync()
    {
        var stream = new InMemoryEventStream(1_000_000);
        await using var service = new ImmuneService(stream, new ImmuneOptions { SpoolDirectory = _directory, QueueCapacity = 1_000_000 });
        await service.FlushAsync().WaitAsync(HangGuard);
        service.GetDeliveryStats().Replayed.ShouldBeGreaterThan(0);
        foreach (EventEnvelope envelope in stream.Envelopes)
        {
            envelope.Payload.Message.ShouldBe($"burst {envelope.Payload.EventId}"); // nothing corrupt
            ImmuneJson.DeserializeEnvelope(ImmuneJson.SerializeToUtf8Bytes(envelope)).Id.ShouldBe(envelope.Id);
        }

        return [.. stream.Envelopes.Select(e => (e.Type, e.Payload.EventId, e.Meta.InstanceId!))];
    }
}
