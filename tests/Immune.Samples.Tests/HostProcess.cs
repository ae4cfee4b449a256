using System.Diagnostics;
using System.Globalization;

namespace Immune.Samples.Tests;

/// <summary>
/// tests/Immune.SpoolHost run as a child process: the test reads its lines as they come (<c>instance</c>,
/// <c>published</c>, <c>delivered</c>) and kills it with SIGKILL where it wants a crash.
/// </summary>
internal sealed class HostProcess : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);
    private readonly Process _process;

    private HostProcess(Process process) => _process = process;

    /// <summary>Gets every line read so far.</summary>
    public List<string> Lines { get; } = [];

    /// <summary>Gets the service's instance id (the first line).</summary>
    public string Instance => Lines[0]["instance ".Length..];

    /// <summary>Gets the ids PublishAsync returned, as the host printed them.</summary>
    public List<long> Published => [.. Lines.Where(l => l.StartsWith("published ", StringComparison.Ordinal)).Select(l => long.Parse(l["published ".Length..], CultureInfo.InvariantCulture))];

    /// <summary>Gets what the host's stream accepted: (type, event id, instance id).</summary>
    public IEnumerable<(string Type, long EventId, string Instance)> Delivered
        => Lines.Where(l => l.StartsWith("delivered ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(p => (p[1], long.Parse(p[2], CultureInfo.InvariantCulture), p[3]));

    public int Count(string prefix) => Lines.Count(l => l.StartsWith(prefix, StringComparison.Ordinal));

    public static HostProcess Start(params string[] args)
    {
        string host = Path.Combine(AppContext.BaseDirectory.Replace("Immune.Samples.Tests", "Immune.SpoolHost", StringComparison.Ordinal), "Immune.SpoolHost.dll");
        var start = new ProcessStartInfo(Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(host);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return new HostProcess(Process.Start(start)!);
    }

    /// <summary>Reads lines until <paramref name="until"/> holds.</summary>
    public async Task ReadUntilAsync(Func<HostProcess, bool> until)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (!until(this))
        {
            string? line = await _process.StandardOutput.ReadLineAsync(guard.Token);
            if (line is null)
            {
                throw new InvalidOperationException($"The host ended early: {await _process.StandardError.ReadToEndAsync()}");
            }

            Lines.Add(line);
        }
    }

    /// <summary>Kills the host with SIGKILL (no finally blocks, no flush, no disposal) and reads what it wrote before it died.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(HangGuard);
        string rest = await _process.StandardOutput.ReadToEndAsync();
        Lines.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // written after PublishAsync returned: it counts too
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
