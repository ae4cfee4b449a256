namespace Immune.Testing;

/// <summary>
/// A real <c>nats-server</c> with JetStream on 127.0.0.1 and a free port, its store in a directory of its own (so what
/// it acknowledged survives a kill and a restart on the same port), started from PATH and stopped after the tests.
/// </summary>
public sealed class NatsServer : ServerProcess
{
    private readonly string _storeDirectory = Directory.CreateTempSubdirectory("immune-nats-").FullName;

    private NatsServer(int port)
        : base(port)
    {
    }

    public string Url => $"nats://127.0.0.1:{Port}";

    public static async Task<NatsServer> StartAsync()
    {
        var server = new NatsServer(FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <inheritdoc />
    public override Task RestartAsync() => StartAsync(
        "nats-server",
        ["--jetstream", "--addr", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store_dir", _storeDirectory],
        "Server is ready",
        "nats-server");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_storeDirectory, recursive: true);
    }
}
