using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Immune.Samples.Tests;

/// <summary>A real redis-server on 127.0.0.1 and a free port, started from PATH for the tests (and the Redis benchmarks) and stopped after them.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string? _dataDirectory;
    private Process? _process;

    private RedisServer(int port, string? dataDirectory)
    {
        Port = port;
        _dataDirectory = dataDirectory;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts a server on a free port.</summary>
    /// <param name="durable">
    /// Whether what Redis acknowledged survives a kill: an append-only file forced to disk on every write, in a
    /// directory of the server's own, so a restart after <see cref="StopAsync"/> holds every acknowledged entry.
    /// </param>
    public static async Task<RedisServer> StartAsync(bool durable = false)
    {
        string? directory = durable ? Directory.CreateTempSubdirectory("immune-redis-").FullName : null;
        var server = new RedisServer(FreePort(), directory);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same port and completes once it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string persistence = _dataDirectory is null ? "--appendonly no" : $"--appendonly yes --appendfsync always --dir {_dataDirectory}";
        var start = new ProcessStartInfo("redis-server", $"--port {Port} --bind 127.0.0.1 --save \"\" {persistence} --protected-mode no --loglevel notice")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException(
                "redis-server was not found on PATH. Install it with 'apt-get install -y redis-server' (./test.sh does this when it is missing).", exception);
        }

        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"redis-server exited with code {process.ExitCode} before it was ready."));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(StartTimeout);
    }

    /// <summary>Kills the server (SIGKILL): a crash, not a shutdown.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        if (_dataDirectory is not null)
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
