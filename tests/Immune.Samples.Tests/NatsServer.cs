using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Immune.Samples.Tests;

/// <summary>
/// A real <c>nats-server</c> with JetStream on 127.0.0.1 and a free port, its store in a directory of its own (so what
/// it acknowledged survives a kill and a restart on the same port), started from PATH and stopped after the tests.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string _storeDirectory = Directory.CreateTempSubdirectory("immune-nats-").FullName;
    private Process? _process;

    private NatsServer(int port) => Port = port;

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public static async Task<NatsServer> StartAsync()
    {
        var server = new NatsServer(FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same port and store, and completes once it accepts clients.</summary>
    public async Task RestartAsync()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo("nats-server", ["--jetstream", "--addr", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store_dir", _storeDirectory])
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
            throw new InvalidOperationException("nats-server was not found on PATH. Install it with 'apt-get install -y nats-server' (./test.sh does this when it is missing).", exception);
        }

        DataReceivedEventHandler watch = (_, line) =>
        {
            if (line.Data?.Contains("Server is ready", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += watch;
        process.ErrorDataReceived += watch; // nats-server logs to stderr
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"nats-server exited with code {process.ExitCode} before it was ready."));
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
        Directory.Delete(_storeDirectory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
