// A process for the crash tests: it publishes into a spool (or replays one) through a slow stream, or through a real
// Redis stream, and is killed with SIGKILL in the middle. Standard output tells the test what it may rely on, line by line:
//   instance <id>           the service's InstanceId
//   published <event id>    PublishAsync returned this id (its envelopes are in the spool)
//   delivered <type> <event id> <instance id>   the (slow) stream accepted an envelope
// Usage: Immune.SpoolHost <spool directory> publish|replay <count>
//        Immune.SpoolHost <spool directory> redis <count> <redis connection string> <stream key>
using Immune;
using Immune.Redis;
using StackExchange.Redis;

string directory = args[0];
string mode = args[1];
int count = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0;
TextWriter output = Console.Out;

IEventStream stream = mode == "redis"
    ? new RedisStreamsEventStream(
        await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(args[3])),
        new RedisStreamsOptions { StreamKey = args[4] })
    : new SlowStream(TimeSpan.FromMilliseconds(mode == "publish" ? 2 : 5), output);

// Redis mode runs with the default options a user would have: only the spool is set.
var service = new ImmuneService(stream, mode == "redis"
    ? new ImmuneOptions { SpoolDirectory = directory }
    : new ImmuneOptions { SpoolDirectory = directory, QueueCapacity = 100_000 });
output.WriteLine($"instance {service.InstanceId}");
output.Flush();
if (mode is "publish" or "redis")
{
    // In Redis mode the rate is the scenario: a steady producer (a tick every 2 ms), not a burst.
    using var pace = mode == "redis" ? new PeriodicTimer(TimeSpan.FromMilliseconds(2)) : null;
    for (int i = 1; i <= count; i++)
    {
        var severity = i % 5 == 0 ? ImmuneSeverity.Critical : ImmuneSeverity.Info;
        long id = await service.PublishAsync(new NewImmuneEvent(severity, ImmuneEventType.ErrorSpike, $"burst {i}") { Module = "spool-host" });
        output.WriteLine($"published {id}");
        output.Flush();
        if (pace is not null)
        {
            await pace.WaitForNextTickAsync();
        }
    }
}

await Task.Delay(Timeout.Infinite); // until killed

/// <summary>Accepts an envelope after a delay, and says so.</summary>
internal sealed class SlowStream(TimeSpan delay, TextWriter output) : IEventStream
{
    public async ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, cancellationToken);
        lock (output)
        {
            output.WriteLine($"delivered {envelope.Type} {envelope.Payload.EventId} {envelope.Meta.InstanceId}");
            output.Flush();
        }
    }
}
