namespace Immune.Tests;

/// <summary>Proves each test run happens on the runtime of its target framework, not on a newer one rolled forward.</summary>
public sealed class TargetFrameworkTests
{
    [Fact]
    public void Runtime_IsTheOneTheTestsTarget()
    {
#if NET10_0
        const int expected = 10;
#elif NET8_0
        const int expected = 8;
#else
        const int expected = -1;
#endif
        Environment.Version.Major.ShouldBe(expected);
    }
}
