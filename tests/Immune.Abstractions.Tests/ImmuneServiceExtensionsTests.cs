namespace Immune.Tests;

public sealed class ImmuneServiceExtensionsTests
{
    [Fact]
    public void Conveniences_UseAOneHourWindow()
    {
        IImmuneService service = Substitute.For<IImmuneService>();

        service.GetRecentEvents();
        service.GetHealthSummary();

        service.Received(1).GetRecentEvents(TimeSpan.FromHours(1));
        service.Received(1).GetHealthSummary(TimeSpan.FromHours(1));
        ImmuneServiceExtensions.DefaultWindow.ShouldBe(TimeSpan.FromHours(1));
    }

    [Fact]
    public void Conveniences_NullService_Throw()
    {
        Should.Throw<ArgumentNullException>(() => ImmuneServiceExtensions.GetRecentEvents(null!));
        Should.Throw<ArgumentNullException>(() => ImmuneServiceExtensions.GetHealthSummary(null!));
    }
}
