using System.Collections.ObjectModel;
using Immune.Testing;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>
/// The dashboard in a real headless Chromium: problems first at 10,000 sources with the tiles capped and the open count
/// true, readable on a 390 px phone whatever the events say, absolute times, the chart by severity at publication, and
/// "not live since …" when the host cannot read its broker or the page cannot reach the host. Screenshots go to
/// artifacts/screenshots.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private static ReadOnlyCollection<IWebElement> Rows(Browser browser) => browser.Driver.FindElements(By.CssSelector("#incidents tbody tr"));

    private static string Text(Browser browser, string id) => browser.Driver.FindElement(By.Id(id)).Text;

    [Fact]
    public async Task Dashboard_10000Sources_ProblemsFirst_TilesCapped_TheOpenCountNotTheRowCount()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        for (int i = 0; i < 10_000; i++)
        {
            fleet.Publish($"service-{i:D5}", 1, i < 150 ? ImmuneSeverity.Warning : ImmuneSeverity.Info);
        }

        fleet.Publish("zz-seen-last", 1, ImmuneSeverity.Critical, "disk on fire");
        using Browser browser = Browser.Start();

        browser.Driver.Navigate().GoToUrl(fleet.Address);
        browser.Wait().Until(_ => browser.Refreshed() > 0);

        ReadOnlyCollection<IWebElement> tiles = browser.Driver.FindElements(By.CssSelector("li.tile"));
        tiles.Count.ShouldBe(50);
        tiles[0].GetAttribute("data-source").ShouldBe("zz-seen-last");
        tiles[0].FindElement(By.CssSelector("dd.critical")).Text.ShouldBe("1");
        tiles[0].Text.ShouldContain("Open");
        Text(browser, "more-sources").ShouldStartWith("and 9,951 more");
        Text(browser, "incident-count").ShouldBe("(151, 1 critical)");
        Rows(browser).Count.ShouldBe(100);
        Rows(browser)[0].GetAttribute("data-key").ShouldBe("zz-seen-last/i-1/1");
        Text(browser, "incident-note").ShouldContain("Showing the 100 most severe and recent of 151");
        Text(browser, "fleet-status").ShouldContain("Critical");
        Text(browser, "source-count").ShouldBe("10,001");
        browser.Driver.Manage().Window.Size = new System.Drawing.Size(1280, 1400);
        output.WriteLine("Screenshot: " + browser.Screenshot("fleet-10000-sources"));
    }

    [Fact]
    public async Task Dashboard_PhoneWidth_HostileLongBidiAndInvisibleText_ShownAsTextWithinTheScreen()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        string longSource = "payments-" + new string('x', 300);
        fleet.Publish(longSource, 1, ImmuneSeverity.Critical, "<script>window.__injected = 1</script><img src=x onerror=\"window.__injected = 2\">");
        fleet.Publish("files", 2, ImmuneSeverity.Warning, "invoice\u202Efdp.exe");
        fleet.Publish("files", 3, ImmuneSeverity.Warning, "\u200B\u200D\u2060");
        fleet.Publish("files", 4, ImmuneSeverity.Warning, string.Concat(Enumerable.Repeat("overflow ", 455)) + "e");
        using Browser browser = Browser.Start(390, 844);

        browser.Driver.Navigate().GoToUrl(fleet.Address);
        browser.Wait().Until(_ => Rows(browser).Count == 4);

        browser.Script("return document.documentElement.clientWidth;").ShouldBe(390L);
        long overflow = (long)browser.Script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")!;
        overflow.ShouldBeLessThanOrEqualTo(0L); // nothing wider than the phone
        browser.Script("return window.__injected;").ShouldBeNull();
        IWebElement Row(long eventId) => Rows(browser).Single(r => r.GetAttribute("data-key")!.EndsWith("/" + eventId, StringComparison.Ordinal));
        Row(1).FindElement(By.CssSelector("td.message")).Text.ShouldStartWith("<script>window.__injected = 1</script>");
        Row(1).FindElement(By.CssSelector("td.service")).Text.ShouldStartWith(longSource); // wrapped, not cut
        Row(2).FindElement(By.CssSelector("td.message")).Text.ShouldStartWith("invoice\u27E8U+202E\u27E9fdp.exe");
        Row(3).FindElement(By.CssSelector("td.message")).Text.ShouldStartWith("(empty)");
        IWebElement longRow = Row(4);
        longRow.FindElement(By.CssSelector("td.message")).Text.ShouldContain("show all 4,096 characters");
        longRow.Size.Height.ShouldBeLessThan(600);
        output.WriteLine("Screenshot: " + browser.Screenshot("fleet-phone"));
        IWebElement tile = browser.Driver.FindElement(By.CssSelector("li.tile"));
        (tile.Location.X + tile.Size.Width).ShouldBeLessThanOrEqualTo(390);
    }

    [Fact]
    public async Task Dashboard_FleetUnchanged_KeepsTheMessageTheReaderOpened_AChangeRedraws()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        fleet.Publish("files", 1, ImmuneSeverity.Warning, string.Concat(Enumerable.Repeat("overflow ", 100)));
        using Browser browser = Browser.Start();
        browser.Driver.Navigate().GoToUrl(fleet.Address);
        browser.Wait().Until(_ => Rows(browser).Count == 1);

        IWebElement opened = Rows(browser)[0].FindElement(By.CssSelector("td.message details"));
        opened.FindElement(By.TagName("summary")).Click();
        browser.WaitForRefreshes(2);

        opened.GetAttribute("open").ShouldNotBeNull(); // the same element, still open: an unchanged answer is not redrawn

        fleet.Publish("files", 2, ImmuneSeverity.Critical, "disk on fire");
        browser.Wait().Until(_ => Rows(browser).Count == 2);
        Should.Throw<StaleElementReferenceException>(() => opened.GetAttribute("open")); // a change redraws
    }

    [Fact]
    public async Task Dashboard_AbsoluteTimes_AndTheChartCountsBySeverityAtPublication()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        EventEnvelope published = Envelopes.Published("checkout", "i-1", 1, ImmuneSeverity.Critical, FleetApp.Start);
        fleet.View.Apply(published);
        fleet.View.Apply(Envelopes.Critical(published, FleetApp.Start));
        fleet.Publish("search", 2, ImmuneSeverity.Warning, at: FleetApp.Start.AddSeconds(-90));
        fleet.View.Apply(Envelopes.Changed(published, ImmuneSeverity.Critical, ImmuneSeverity.Info, FleetApp.Start)); // resolved
        using Browser browser = Browser.Start();

        browser.Driver.Navigate().GoToUrl(fleet.Address);
        browser.Wait().Until(_ => Rows(browser).Count == 1);

        Rows(browser)[0].Text.ShouldContain("2026-12-06 08:58:30 UTC");
        Rows(browser)[0].Text.ShouldContain("(1m ago)");
        browser.Driver.FindElements(By.CssSelector("#chart rect.bar.critical")).Count.ShouldBe(1); // resolved since, CRITICAL when published
        Text(browser, "updated").ShouldBe("2026-12-06 09:00:00 UTC");
    }

    [Fact]
    public async Task Dashboard_HostCannotReadItsBroker_NotLiveSinceItsLastRead_ThenHostGone_CannotReachIt()
    {
        await using FleetApp fleet = await FleetApp.StartAsync();
        fleet.Publish("checkout", 1, ImmuneSeverity.Critical);
        using Browser browser = Browser.Start();
        browser.Driver.Navigate().GoToUrl(fleet.Address);
        browser.Wait().Until(_ => Rows(browser).Count == 1);
        browser.Driver.FindElement(By.Id("live")).Displayed.ShouldBeFalse();

        fleet.Feed.Read = static () => throw new InvalidOperationException("It was not possible to connect to the redis server(s).");
        Task failed = fleet.Feed.NextRead;
        fleet.Time.Advance(TimeSpan.FromSeconds(31));
        await failed.WaitAsync(FleetApp.HangGuard);

        browser.Wait().Until(_ => browser.Driver.FindElement(By.Id("live")).Displayed);
        Text(browser, "live").ShouldContain("Not live since 2026-12-06 09:00:00 UTC");
        Text(browser, "live").ShouldContain("not possible to connect to the redis server");
        Text(browser, "updated").ShouldBe("2026-12-06 09:00:00 UTC"); // as of the last read, not now
        browser.Driver.FindElement(By.TagName("body")).GetAttribute("data-live").ShouldBe("false");
        output.WriteLine("Screenshot: " + browser.Screenshot("fleet-not-live"));

        await fleet.App.StopAsync();
        browser.Wait().Until(_ => Text(browser, "live").Contains("cannot reach the fleet host", StringComparison.Ordinal));
        Text(browser, "live").ShouldContain("Not live since 2026-12-06 09:00:00 UTC");
    }
}
