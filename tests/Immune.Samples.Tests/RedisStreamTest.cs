using Immune.Samples.Redis;
using StackExchange.Redis;

namespace Immune.Samples.Tests;

/// <summary>A test on the shared <c>redis-server</c> with a stream key of its own and a connection of its own.</summary>
public abstract class RedisStreamTest(RedisFixture redis) : IAsyncLifetime
{
    /// <summary>Gets this test's stream key.</summary>
    protected string StreamKey { get; } = $"immune:events:{Guid.NewGuid():N}";

    protected ConnectionMultiplexer Connection { get; private set; } = null!;

    protected RedisServer Server => redis.Server;

    public virtual async Task InitializeAsync()
        => Connection = await ConnectionMultiplexer.ConnectAsync(RedisStreamEventStream.ConnectionOptions(redis.Server.ConnectionString));

    public virtual async Task DisposeAsync() => await Connection.DisposeAsync();
}
