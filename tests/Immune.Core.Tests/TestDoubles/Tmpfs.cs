using System.Diagnostics;

namespace Immune.Tests.TestDoubles;

/// <summary>
/// A small real file system of a test's own: a tmpfs of a few MiB mounted on a temporary directory, so a test can fill
/// the disk for real. Mounting needs root (CI runs as root); where it cannot mount, <see cref="TmpfsFactAttribute"/>
/// skips the test and says why.
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    private static readonly Lazy<string?> Unmountable = new(Probe);

    public Tmpfs(long sizeBytes)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "immune-tmpfs", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        string? error = Run("mount", "-t", "tmpfs", "-o", $"size={sizeBytes},mode=0700", "tmpfs", Path);
        if (error is not null)
        {
            Directory.Delete(Path);
            throw new InvalidOperationException($"Could not mount a tmpfs on {Path}: {error}");
        }
    }

    /// <summary>Gets why no tmpfs can be mounted here, or null when one can.</summary>
    public static string? CannotMount => Unmountable.Value;

    /// <summary>Gets the mount point.</summary>
    public string Path { get; }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        Directory.Delete(Path, recursive: true);
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "tmpfs mounts are a Linux facility";
        }

        try
        {
            using var probe = new Tmpfs(64 << 10);
            return null;
        }
        catch (Exception exception)
        {
            return $"this test mounts a tmpfs and cannot here (it needs root): {exception.Message}";
        }
    }

    /// <summary>Runs a command; returns null when it succeeded, else what it said.</summary>
    private static string? Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process process = Process.Start(start)!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"{command} exited with {process.ExitCode}: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return $"{command} could not be run: {exception.Message}";
        }
    }
}

/// <summary>A fact that needs a tmpfs of its own: skipped, with the reason, where none can be mounted.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.CannotMount is { } reason)
        {
            Skip = reason;
        }
    }
}
