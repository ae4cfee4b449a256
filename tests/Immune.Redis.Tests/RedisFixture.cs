using Immune.Testing;
using StackExchange.Redis;

namespace Immune.Redis.Tests;

/// <summary>One real redis-server shared by the tests of a collection; each test uses stream keys of its own.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(nameof(RedisCollection))]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>;

/// <summary>A test on the shared redis-server with a stream key and a connection of its own.</summary>
public abstract class RedisStreamTest(RedisFixture redis) : IAsyncLifetime
{
    protected static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    /// <summary>Gets this test's stream key.</summary>
    protected string StreamKey { get; } = $"immune:events:{Guid.NewGuid():N}";

    protected ConnectionMultiplexer Connection { get; private set; } = null!;

    protected IDatabase Db => Connection.GetDatabase();

    protected RedisServer Server => redis.Server;

    /// <summary>The options of this test's stream, tightened for tests: a dead-letter stream of its own, short polls.</summary>
    protected RedisStreamsOptions Options(Action<RedisStreamsOptions>? configure = null)
    {
        var options = new RedisStreamsOptions
        {
            StreamKey = StreamKey,
            DeadLetterKey = StreamKey + ":dead",
            ReclaimAfter = TimeSpan.FromMinutes(5),
            PollInterval = TimeSpan.FromMilliseconds(20),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Publishes through a new service (a new process, as far as the stream can tell); returns its instance id.</summary>
    protected async Task<string> PublishAsync(params NewImmuneEvent[] events)
    {
        await using var service = new ImmuneService(new RedisStreamsEventStream(Connection, Options()));
        foreach (NewImmuneEvent e in events)
        {
            await service.PublishAsync(e);
        }

        await service.FlushAsync().WaitAsync(HangGuard);
        service.GetDeliveryStats().Delivered.ShouldBe(service.GetDeliveryStats().Queued);
        return service.InstanceId;
    }

    protected static NewImmuneEvent Critical(string message) => new(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, message);

    protected static NewImmuneEvent Info(string message) => new(ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, message);

    protected static string PageKey(string instanceId, long eventId) => $"immune_critical_immune_service_{instanceId}_{eventId}";

    public virtual async Task InitializeAsync()
        => Connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamsOptions.ConnectionOptions(redis.Server.ConnectionString));

    public virtual async Task DisposeAsync() => await Connection.DisposeAsync();
}
