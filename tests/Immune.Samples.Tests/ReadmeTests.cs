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

    [Fact]
    public void Readme_EveryCSharpBlock_StandsVerbatimInACompiledSample()
    {
        string root = Repository.Root();
        string[] blocks = CSharpBlock().Matches(File.ReadAllText(Path.Combine(root, "README.md"))).Select(m => Normalize(m.Groups["code"].Value)).ToArray();
        string[] sources = Directory.GetFiles(Path.Combine(root, "samples"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => string.Join("\n", File.ReadAllText(f).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd().TrimStart())))
            .ToArray();

        blocks.Length.ShouldBeGreaterThanOrEqualTo(4);
        foreach (string block in blocks)
        {
            string flat = string.Join("\n", block.Split('\n').Select(l => l.TrimStart()));
            sources.Any(source => source.Contains(flat, StringComparison.Ordinal)).ShouldBeTrue("README block not found in any sample:\n" + block);
        }
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
