namespace Immune.Testing;

/// <summary>The repository the tests run in: its root is the folder that holds <c>Immune.sln</c>, above the test's output.</summary>
public static class Repository
{
    public static string Root()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Immune.sln"))) return dir;
        }

        throw new InvalidOperationException("The repository root (Immune.sln) was not found above " + AppContext.BaseDirectory);
    }
}
