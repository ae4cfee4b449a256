using System.Globalization;

namespace Immune.Testing;

/// <summary>
/// A real <c>nats-server</c> with JetStream on 127.0.0.1 and a free port, its store in a directory of its own (so what
/// it acknowledged survives a kill and a restart on the same port), started from PATH and stopped after the tests; alone,
/// or a node of a <see cref="NatsCluster"/>.
/// </summary>
public sealed class NatsServer : ServerProcess
{
    private readonly string _storeDirectory = Directory.CreateTempSubdirectory("immune-nats-").FullName;
    private readonly string[] _clusterArguments;

    private NatsServer(int port, string name, string[] clusterArguments)
        : base(port)
    {
        Name = name;
        _clusterArguments = clusterArguments;
    }

    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>Gets the server's name (<c>server_name</c>), as stream leaders and replicas are named.</summary>
    public string Name { get; }

    /// <summary>Gets or sets the line of the server's output that says it is ready (a new cluster's nodes wait for their JetStream meta leader).</summary>
    public string ReadyLine { get; set; } = "Server is ready";

    public static async Task<NatsServer> StartAsync()
    {
        var server = new NatsServer(FreePort(), "solo", []);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Creates (does not start) a node of a cluster that routes to <paramref name="routePorts"/>.</summary>
    public static NatsServer ClusterNode(string name, int clusterPort, IEnumerable<int> routePorts) => new(FreePort(), name,
    [
        "--server_name", name, "--cluster_name", "immune",
        "--cluster", $"nats://127.0.0.1:{clusterPort.ToString(CultureInfo.InvariantCulture)}",
        "--routes", string.Join(",", routePorts.Select(port => $"nats://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}")),
    ]);

    public static int FreeClusterPort() => FreePort();

    /// <inheritdoc />
    public override Task RestartAsync() => StartAsync(
        "nats-server",
        ["--jetstream", "--addr", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--store_dir", _storeDirectory, .. _clusterArguments],
        ReadyLine,
        "nats-server");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_storeDirectory, recursive: true);
    }
}
