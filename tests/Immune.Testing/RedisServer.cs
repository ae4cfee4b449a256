namespace Immune.Testing;

/// <summary>A real redis-server on 127.0.0.1 and a free port, started from PATH for the tests (and the Redis benchmarks) and stopped after them.</summary>
public sealed class RedisServer : ServerProcess
{
    private readonly string? _dataDirectory;
    private readonly string[] _settings;

    private RedisServer(int port, string? dataDirectory, string[] settings)
        : base(port) => (_dataDirectory, _settings) = (dataDirectory, settings);

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts a server on a free port.</summary>
    /// <param name="durable">
    /// Whether what Redis acknowledged survives a kill: an append-only file forced to disk on every write, in a
    /// directory of the server's own, so a restart after <see cref="ServerProcess.StopAsync"/> holds every acknowledged entry.
    /// </param>
    /// <param name="settings">More <c>redis-server</c> settings, as <c>--name value</c> pairs (say, <c>--proto-max-bulk-len 1mb</c>).</param>
    public static async Task<RedisServer> StartAsync(bool durable = false, params string[] settings)
    {
        string? directory = durable ? Directory.CreateTempSubdirectory("immune-redis-").FullName : null;
        var server = new RedisServer(FreePort(), directory, settings);
        await server.RestartAsync();
        return server;
    }

    /// <inheritdoc />
    public override Task RestartAsync()
    {
        string[] persistence = _dataDirectory is null ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", "always", "--dir", _dataDirectory];
        return StartAsync(
            "redis-server",
            ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", .. persistence, "--protected-mode", "no", "--loglevel", "notice", .. _settings],
            "Ready to accept connections",
            "redis-server");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_dataDirectory is not null)
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
