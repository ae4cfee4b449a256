using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Immune.Samples.Tests;

/// <summary>
/// The README's fleet blocks ("Run a fleet locally" on Redis, the NATS one of "Transports" and "Running on a cluster"), run as a user pastes
/// them into a shell at the repository root.
/// </summary>
public sealed partial class FleetScriptTests
{
    [GeneratedRegex("Run a fleet locally.*?```sh\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex RedisFleetBlock();

    [GeneratedRegex("Run the whole fleet on either broker.*?```sh\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex NatsFleetBlock();

    [GeneratedRegex("### Running on a cluster.*?```sh\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ClusterFleetBlock();

    [Theory]
    [InlineData("redis")]
    [InlineData("nats")]
    [InlineData("cluster")]
    public async Task Readme_RunAFleetLocally_BuildsStartsPostsAndPrintsTheFleetHealth(string broker)
    {
        string root = Repository.Root();
        string readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"));
        string block = (broker switch { "nats" => NatsFleetBlock(), "cluster" => ClusterFleetBlock(), _ => RedisFleetBlock() }).Match(readme).Groups["code"].Value;
        block.ShouldNotBeNullOrWhiteSpace();
        if (broker == "nats") block.ShouldContain("--broker nats");
        if (broker == "cluster") block.ShouldContain("--cluster");
        int basePort = FreeBase();
        string free = FreeRun(6).ToString(System.Globalization.CultureInfo.InvariantCulture); // a cluster's three client and three route ports
        var start = new ProcessStartInfo("bash", ["-c", block])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["REDIS_PORT"] = free, ["NATS_PORT"] = free, ["BASE_PORT"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };

        using Process shell = Process.Start(start)!;
        Task<string> output = shell.StandardOutput.ReadToEndAsync();
        Task<string> errors = shell.StandardError.ReadToEndAsync();
        await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(15)); // a hang guard: the script waits on each host itself

        string printed = await output;
        shell.ExitCode.ShouldBe(0, printed + await errors);
        printed.ShouldContain("""{"source":"checkout","status":"CRITICAL","active_issues":2,"critical_issues":2,"instances":2,"open_incidents":2,"open_critical_incidents":2}""");
        printed.ShouldContain("""{"source":"payments","status":"CRITICAL","active_issues":1,"critical_issues":1,"instances":1,"open_incidents":1,"open_critical_incidents":1}""");
        printed.ShouldContain("[1/4] building the samples"); // progress from the start
        printed.ShouldContain("the fleet answered; stopping it now. To keep it running and open its dashboard:"); // the script checked that the page answers
        printed.ShouldContain("run-fleet: stopped everything it started.");
        if (broker == "cluster")
        {
            printed.ShouldContain("killing nats-server n1 and the consumer on");
            printed.ShouldContain("""{"source":"checkout","status":"CRITICAL","active_issues":4,"critical_issues":4,"instances":2,"open_incidents":4,"open_critical_incidents":4}""");
            printed.ShouldContain("""{"source":"payments","status":"CRITICAL","active_issues":2,"critical_issues":2,"instances":1,"open_incidents":2,"open_critical_incidents":2}""");
        }

        foreach (int port in new[] { basePort + 1, basePort + 2, basePort + 3, basePort + 10, basePort + 11 })
        {
            IsFree(port).ShouldBeTrue($"port {port} is still taken: the script left a host running");
        }
    }

    [Fact]
    public async Task RunFleet_APortInUse_SaysWhichAndHowToChooseOthers_BeforeBuildingAnything()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        string port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root(), "samples", "run-fleet.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["REDIS_PORT"] = port },
        };

        using Process shell = Process.Start(start)!;
        Task<string> output = shell.StandardOutput.ReadToEndAsync();
        string errors = await shell.StandardError.ReadToEndAsync();
        await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

        shell.ExitCode.ShouldBe(1);
        errors.ShouldContain($"run-fleet: port {port} is in use.");
        errors.ShouldContain("BASE_PORT=");
        (await output).ShouldNotContain("building");
    }

        /// <summary>A base port whose producer and consumer ports (base + 1..3, + 10..11) are all free.</summary>
    private static int FreeBase()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int candidate = FreePort() - 11;
            if (candidate > 1024 && new[] { 1, 2, 3, 10, 11 }.All(offset => IsFree(candidate + offset)))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free range of ports was found.");
    }

    /// <summary>The first of <paramref name="count"/> consecutive free ports.</summary>
    private static int FreeRun(int count)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int candidate = FreePort();
            if (candidate + count < 65536 && Enumerable.Range(candidate, count).All(IsFree))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free range of ports was found.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
