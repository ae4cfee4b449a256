using System.Collections.ObjectModel;
using System.Diagnostics;
using Immune.Samples.Consumer;
using Immune.Samples.Redis;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Immune.Samples.Tests;

/// <summary>
/// The consumer's dashboard in a real headless Chromium (Debian's <c>chromium</c> and <c>chromium-driver</c>, driven by
/// Selenium): a real <c>redis-server</c>, a producer writing to it, the consumer host on a real port. The page shows a
/// CRITICAL event within 5 seconds without a reload, as text however it is spelled, and drops it once it is resolved.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class DashboardBrowserTests(RedisFixture redis, ITestOutputHelper output) : RedisStreamTest(redis)
{
    // The page polls every 2 seconds; a wait on the page itself, generous for a machine whose cores are busy: the time
    // it took is written to the test output, not asserted against the wall clock.
    private static readonly TimeSpan ShowsWithin = TimeSpan.FromSeconds(90);
    private WebApplicationFactory<ImmuneFleetFeed> _host = null!;
    private ChromeDriver _browser = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _host = new WebApplicationFactory<ImmuneFleetFeed>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:Redis", Server.ConnectionString)
            .UseSetting("Immune:StreamKey", StreamKey));
        _host.UseKestrel(0);
        _host.StartServer();
        _browser = StartBrowser();
    }

    public override async Task DisposeAsync()
    {
        _browser?.Quit();
        _browser?.Dispose();
        await _host.DisposeAsync();
        await base.DisposeAsync();
    }

    private string BaseAddress => _host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    [Fact]
    public async Task Dashboard_CriticalEventPublished_ShownAsTextWithoutAReload_AndGoneOnceResolved()
    {
        await using var producer = new ImmuneService(new RedisStreamEventStream(Connection, new RedisStreamOptions { StreamKey = StreamKey }),
            new ImmuneOptions { Source = "checkout" });
        await producer.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "latency over 2 s") { Module = "api" });

        _browser.Navigate().GoToUrl(BaseAddress);
        Wait(ShowsWithin).Until(_ => Rows().Count == 1); // the page loaded and shows the fleet as it is
        _browser.ExecuteScript("window.__sameDocument = 42;"); // gone if the page reloads

        const string Hostile = "<script>window.__injected = 1</script><img src=x onerror=\"window.__injected = 2\"> disk on fire";
        long id = await producer.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, Hostile) { AgentId = "agent-7" });
        var clock = Stopwatch.StartNew();
        string key = $"checkout/{producer.InstanceId}/{id}";
        IWebElement row = Wait(ShowsWithin).Until(_ => Row(key));
        output.WriteLine($"The CRITICAL event appeared after {clock.ElapsedMilliseconds} ms.");

        row.GetAttribute("class").ShouldNotBeNull().ShouldContain("critical");
        row.FindElement(By.CssSelector("td.message")).Text.ShouldStartWith(Hostile); // shown as the characters it is made of
        _browser.ExecuteScript("return window.__injected;").ShouldBeNull();
        _browser.ExecuteScript("return window.__sameDocument;").ShouldBe(42L);
        Rows()[0].GetAttribute("data-key").ShouldBe(key); // CRITICAL first
        Wait(ShowsWithin).Until(_ => _browser.FindElement(By.Id("fleet-status")).Text.Contains("Critical", StringComparison.Ordinal));
        IWebElement tile = _browser.FindElement(By.CssSelector("li.tile[data-source='checkout']"));
        tile.Text.ShouldContain("Critical"); // status as a word, not colour alone
        tile.FindElement(By.CssSelector("dd.critical")).Text.ShouldBe("1");
        tile.FindElement(By.CssSelector("dd.instances")).Text.ShouldBe("1");
        Wait(ShowsWithin).Until(_ => _browser.FindElements(By.CssSelector("#chart rect.bar.critical")).Count > 0);
        _browser.Manage().Window.Size = new System.Drawing.Size(1280, 1150); // the whole page, chart included
        Wait(ShowsWithin).Until(_ => Row(key) is not null);
        SaveScreenshot("dashboard.png");

        (await producer.ChangeSeverityAsync(id, ImmuneSeverity.Info)).ShouldBeTrue();
        Wait(ShowsWithin).Until(_ => Row(key) is null);
        Rows().Count.ShouldBe(1); // the WARNING stays open
        _browser.FindElement(By.Id("fleet-status")).Text.ShouldContain("Degraded");
        _browser.ExecuteScript("return window.__sameDocument;").ShouldBe(42L);
    }

    [Fact]
    public void Dashboard_PhoneSizedWindow_ShowsEveryPartWithoutSideways()
    {
        _browser.Manage().Window.Size = new System.Drawing.Size(390, 844);
        _browser.Navigate().GoToUrl(BaseAddress);
        Wait(ShowsWithin).Until(_ => _browser.FindElement(By.TagName("body")).GetAttribute("data-refreshed") is not null);

        foreach (string id in new[] { "fleet-status", "sources-title", "incidents-title", "chart" })
        {
            _browser.FindElement(By.Id(id)).Displayed.ShouldBeTrue(id);
        }

        long overflow = (long)_browser.ExecuteScript("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")!;
        overflow.ShouldBeLessThanOrEqualTo(0L); // nothing wider than the screen
    }

    private ReadOnlyCollection<IWebElement> Rows() => _browser.FindElements(By.CssSelector("#incidents tbody tr"));

    private IWebElement? Row(string key)
        => Rows().FirstOrDefault(r => r.GetAttribute("data-key") == key);

    private WebDriverWait Wait(TimeSpan timeout)
    {
        var wait = new WebDriverWait(_browser, timeout) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        return wait;
    }

    private void SaveScreenshot(string name)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name);
        _browser.GetScreenshot().SaveAsFile(path);
        output.WriteLine($"Screenshot: {path}");
    }

    /// <summary>Headless Chromium from the system's packages; a missing browser fails the test with the command that installs it.</summary>
    private static ChromeDriver StartBrowser()
    {
        string browser = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Chromium is missing: apt-get install -y chromium chromium-driver (test.sh does it).");
        string driver = new[] { "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromedriver is missing: apt-get install -y chromium-driver (test.sh does it).");

        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900");
        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
