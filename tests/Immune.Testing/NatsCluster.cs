using NATS.Client.Core;

namespace Immune.Testing;

/// <summary>
/// A real JetStream cluster: <c>nats-server</c> nodes on 127.0.0.1 and free ports, routed to each other, each with its
/// store in a directory of its own, so a node killed with SIGKILL and started again catches up from the others.
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    private readonly List<NatsConnection> _connections = [];

    private NatsCluster(IReadOnlyList<NatsServer> nodes) => Nodes = nodes;

    public IReadOnlyList<NatsServer> Nodes { get; }

    /// <summary>Gets the URLs of every node, comma-separated, as a client that fails over takes them.</summary>
    public string Url => string.Join(",", Nodes.Select(node => node.Url));

    /// <summary>
    /// Starts the nodes and completes once each has said who the JetStream meta leader is ("Self is new JetStream cluster
    /// metadata leader", or "JetStream cluster new metadata leader: n3/immune"): the cluster answers JetStream requests.
    /// </summary>
    public static async Task<NatsCluster> StartAsync(int nodes = 3)
    {
        int[] clusterPorts = [.. Enumerable.Range(0, nodes).Select(_ => NatsServer.FreeClusterPort())];
        var cluster = new NatsCluster([.. Enumerable.Range(0, nodes).Select(i => NatsServer.ClusterNode($"n{i + 1}", clusterPorts[i], clusterPorts))]);
        foreach (NatsServer node in cluster.Nodes)
        {
            node.ReadyLine = "metadata leader";
        }

        await Task.WhenAll(cluster.Nodes.Select(node => node.RestartAsync()));
        foreach (NatsServer node in cluster.Nodes)
        {
            node.ReadyLine = "Server is ready"; // a node started again joins a cluster that has its leader
        }

        return cluster;
    }

    /// <summary>Gets the node of a server name (a stream's leader, a replica).</summary>
    public NatsServer Node(string name) => Nodes.Single(node => node.Name == name);

    /// <summary>Connects to the cluster as a producer or a consumer does: every node's URL, failing over quickly; closed with the cluster.</summary>
    public async Task<NatsConnection> ConnectAsync()
    {
        var connection = new NatsConnection(NatsOpts.Default with { Url = Url, ReconnectWaitMin = TimeSpan.FromMilliseconds(50), ReconnectWaitMax = TimeSpan.FromMilliseconds(500) });
        _connections.Add(connection);
        await connection.ConnectAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NatsConnection connection in _connections)
        {
            await connection.DisposeAsync();
        }

        foreach (NatsServer node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
