using Immune.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Immune.Nats.Tests;

/// <summary>A test on a real nats-server of its own, with a stream of its own.</summary>
public abstract class NatsTest : IAsyncLifetime
{
    protected static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    protected NatsServer Server { get; private set; } = null!;

    protected NatsConnection Connection { get; private set; } = null!;

    /// <summary>The options of this test's stream: names of its own, short polls.</summary>
    protected NatsJetStreamOptions Options(Action<NatsJetStreamOptions>? configure = null)
    {
        var options = new NatsJetStreamOptions
        {
            StreamName = StreamName,
            SubjectPrefix = $"immune.{StreamName.ToLowerInvariant()}",
            DeadLetterSubject = $"dead.{StreamName.ToLowerInvariant()}",
            PollInterval = TimeSpan.FromMilliseconds(20),
            ReclaimAfter = TimeSpan.FromMinutes(5),
        };
        configure?.Invoke(options);
        return options;
    }

    protected string StreamName { get; } = $"IMMUNE_{Guid.NewGuid():N}";

    public virtual async Task InitializeAsync()
    {
        Server = await NatsServer.StartAsync();
        Connection = new NatsConnection(NatsOpts.Default with { Url = Server.Url });
        await Connection.ConnectAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>Publishes through a new service (a new process, as far as the stream can tell); returns its instance id.</summary>
    protected async Task<string> ProduceAsync(string source, Func<ImmuneService, Task> produce, Action<NatsJetStreamOptions>? configure = null)
    {
        await using var service = new ImmuneService(new NatsJetStreamEventStream(Connection, Options(configure)), new ImmuneOptions { Source = source });
        await produce(service);
        await service.FlushAsync().WaitAsync(HangGuard);
        return service.InstanceId;
    }

    /// <summary>Every message of the stream, in stream order, through an ordered consumer.</summary>
    protected async Task<List<(string Subject, EventEnvelope Envelope)>> ReadAllAsync()
    {
        var js = new NatsJSContext(Connection);
        long total = (await js.GetStreamAsync(StreamName)).Info.State.Messages;
        var read = new List<(string, EventEnvelope)>();
        if (total == 0)
        {
            return read;
        }

        INatsJSConsumer consumer = await js.CreateOrderedConsumerAsync(StreamName);
        using var guard = new CancellationTokenSource(HangGuard);
        await foreach (NatsJSMsg<byte[]> message in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, cancellationToken: guard.Token))
        {
            read.Add((message.Subject, ImmuneJson.DeserializeEnvelope(message.Data!)));
            if (read.Count == total)
            {
                break;
            }
        }

        return read;
    }

    protected static NewImmuneEvent Critical(string message) => new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message);

    protected static NewImmuneEvent Info(string message) => new(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, message);
}
