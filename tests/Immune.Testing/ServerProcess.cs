using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Immune.Testing;

/// <summary>
/// A real server started from PATH as a child process on 127.0.0.1 and a free port, for the tests and the benchmarks:
/// started (again, on the same port) until it prints its ready line, killed with SIGKILL, a crash rather than a shutdown.
/// </summary>
public abstract class ServerProcess(int port) : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private Process? _process;

    public int Port { get; } = port;

    /// <summary>Gets the process id of the server as last started.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The server was not started.");

    /// <summary>Starts the server (again) on the same port, and completes once it is ready.</summary>
    public abstract Task RestartAsync();

    /// <summary>Kills the server (SIGKILL): a crash, not a shutdown.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Stops the server with SIGTERM, as an operator or a host's shutdown does, and waits until it has exited.</summary>
    public async Task ShutdownAsync()
    {
        if (_process is { HasExited: false } process)
        {
            _ = SendSignal(process.Id, Sigterm);
            await process.WaitForExitAsync();
        }
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public virtual async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
    }

    /// <summary>Starts <paramref name="fileName"/> and completes once a line of its output contains <paramref name="readyLine"/>.</summary>
    protected async Task StartAsync(string fileName, IEnumerable<string> arguments, string readyLine, string package, IReadOnlyDictionary<string, string>? environment = null)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException($"{fileName} was not found on PATH. Install it with 'apt-get install -y {package}' (./test.sh does this when it is missing).", exception);
        }

        DataReceivedEventHandler watch = (_, line) =>
        {
            if (line.Data?.Contains(readyLine, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += watch;
        process.ErrorDataReceived += watch;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{fileName} exited with code {process.ExitCode} before it was ready."));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(StartTimeout);
    }

    protected static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
