// A process for the spool's crash tests: it publishes into a spool (or replays one) through a slow stream and is
// killed with SIGKILL in the middle. Standard output tells the test what it may rely on, line by line:
//   instance <id>           the service's InstanceId
//   published <event id>    PublishAsync returned this id (its envelopes are in the spool)
//   delivered <type> <event id> <instance id>   the stream accepted an envelope
using Immune;

string directory = args[0];
string mode = args[1];
int count = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0;
TextWriter output = Console.Out;

var stream = new SlowStream(TimeSpan.FromMilliseconds(mode == "publish" ? 2 : 5), output);
var service = new ImmuneService(stream, new ImmuneOptions { SpoolDirectory = directory, QueueCapacity = 100_000 });
output.WriteLine($"instance {service.InstanceId}");
output.Flush();
if (mode == "publish")
{
    for (int i = 1; i <= count; i++)
    {
        var severity = i % 5 == 0 ? ImmuneSeverity.Critical : ImmuneSeverity.Info;
        long id = await service.PublishAsync(new NewImmuneEvent(severity, ImmuneEventType.ErrorSpike, $"burst {i}") { Module = "spool-host" });
        output.WriteLine($"published {id}");
        output.Flush();
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
