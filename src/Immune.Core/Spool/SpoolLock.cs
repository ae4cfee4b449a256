namespace Immune.Spool;

/// <summary>The one owner of a spool directory: the directory made owner-only, and its lock file held open exclusively.</summary>
internal static class SpoolLock
{
    private const string LockName = "spool.lock";

    /// <summary>Creates the directory (owner-only) when missing, and takes its lock file.</summary>
    /// <exception cref="InvalidOperationException">Another service owns the directory.</exception>
    public static FileStream Take(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        try
        {
            return new FileStream(Path.Combine(directory, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException(
                $"The spool directory '{directory}' is in use by another ImmuneService (it holds '{LockName}'); give each service its own SpoolDirectory.", exception);
        }
    }
}
