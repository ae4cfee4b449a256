using System.Text.RegularExpressions;

namespace Immune.Samples.Tests;

/// <summary>The README's code is real code: every C# block stands verbatim in a sample that CI builds.</summary>
public sealed partial class ReadmeTests
{
    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    /// <summary>Lines without their common indentation and trailing spaces, so a snippet matches wherever it is nested.</summary>
    private static string Normalize(string code)
    {
        string[] lines = code.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\n').Split('\n').Select(l => l.TrimEnd()).ToArray();
        int indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    /// <summary>The C# files under a folder, each line trimmed, so a block matches wherever it is nested.</summary>
    private static string[] Sources(string folder)
        => [.. Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => string.Join("\n", File.ReadAllText(f).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd().TrimStart())))];

    private static void EveryBlockShouldStandIn(string readme, string[] sources, int atLeast)
    {
        string[] blocks = [.. CSharpBlock().Matches(File.ReadAllText(readme)).Select(m => Normalize(m.Groups["code"].Value))];
        blocks.Length.ShouldBeGreaterThanOrEqualTo(atLeast, readme);
        foreach (string block in blocks)
        {
            string flat = string.Join("\n", block.Split('\n').Select(l => l.TrimStart()));
            sources.Any(source => source.Contains(flat, StringComparison.Ordinal)).ShouldBeTrue($"{readme}: block not found in the code CI builds:\n{block}");
        }
    }

    [Fact]
    public void Readme_EveryCSharpBlock_StandsVerbatimInACompiledSample()
    {
        string root = Repository.Root();
        EveryBlockShouldStandIn(Path.Combine(root, "README.md"), Sources(Path.Combine(root, "samples")), atLeast: 7);
    }

    [Theory]
    [InlineData("Immune.Redis")]
    [InlineData("Immune.Nats")]
    [InlineData("Immune.HealthChecks")]
    [InlineData("Immune.Fleet.AspNetCore")]
    public void PackageReadme_QuickStart_StandsVerbatimInThePackageSmokeProject_BuiltFromThePackedPackages(string package)
    {
        string root = Repository.Root();
        EveryBlockShouldStandIn(Path.Combine(root, "src", package, "README.md"), Sources(Path.Combine(root, ".ci", "package-smoke")), atLeast: 1);
    }

    [Fact]
    public void Readme_QuickStart_IsTheWholeQuickStartProgram()
    {
        string root = Repository.Root();
        string quickStart = Normalize(CSharpBlock().Matches(File.ReadAllText(Path.Combine(root, "README.md")))[0].Groups["code"].Value);
        string program = Normalize(File.ReadAllText(Path.Combine(root, "samples", "Immune.Samples.QuickStart", "Program.cs")));

        quickStart.ShouldBe(program);
    }
}
