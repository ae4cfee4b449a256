using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Chromium;
using OpenQA.Selenium.Support.UI;

namespace Immune.Testing;

/// <summary>Headless Chromium from the system's packages (<c>chromium</c>, <c>chromium-driver</c>), driven by Selenium.</summary>
public sealed class Browser : IDisposable
{
    private Browser(ChromeDriver driver) => Driver = driver;

    public ChromeDriver Driver { get; }

    /// <summary>Starts the browser; a missing one fails the test with the command that installs it.</summary>
    public static Browser Start(int width = 1280, int height = 900)
    {
        string browser = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Chromium is missing: apt-get install -y chromium chromium-driver (test.sh does it).");
        string driver = new[] { "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromedriver is missing: apt-get install -y chromium-driver (test.sh does it).");
        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--window-size={Math.Max(width, 500)},{height}");
        if (width < 500)
        {
            // A window is never narrower than 500 px: a phone's width is the viewport of an emulated device.
            options.EnableMobileEmulation(new ChromiumMobileEmulationDeviceSettings { Width = width, Height = height, PixelRatio = 2, EnableTouchEvents = true, UserAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36" });
        }

        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        return new Browser(new ChromeDriver(service, options, TimeSpan.FromSeconds(120)));
    }

    /// <summary>Waits on the page itself, generously: the machine's cores may be busy.</summary>
    public WebDriverWait Wait()
    {
        var wait = new WebDriverWait(Driver, TimeSpan.FromSeconds(90)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        return wait;
    }

    /// <summary>Waits until the page has drawn <paramref name="count"/> more answers than it had.</summary>
    public void WaitForRefreshes(int count = 1)
    {
        long before = Refreshed();
        Wait().Until(_ => Refreshed() >= before + count);
    }

    public long Refreshed() => long.TryParse(Driver.FindElement(By.TagName("body")).GetAttribute("data-refreshed"), out long n) ? n : 0;

    public object? Script(string script) => Driver.ExecuteScript(script);

    /// <summary>Keeps a screenshot under artifacts/screenshots, where CI collects them.</summary>
    public string Screenshot(string name)
    {
        string directory = Path.Combine(Repository.Root(), "artifacts", "screenshots");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{name}-net{Environment.Version.Major}.png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
