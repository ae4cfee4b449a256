using System.Collections.ObjectModel;
using System.Diagnostics;
using Immune.Samples.Consumer;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace Immune.Samples.Tests;

/// <summary>
/// The consumer's dashboard end to end in a real headless Chromium: a producer writes a real <c>redis-server</c>, the
/// consumer host reads it, and the page shows a CRITICAL event without a reload, as text however it is spelled, and
/// drops it once it is resolved. The screenshot is the one the README shows.
/// </summary>
[Collection(nameof(RedisCollection))]
public sealed class DashboardBrowserTests(RedisFixture redis, ITestOutputHelper output) : RedisStreamTest(redis)
{
    [Fact]
    public async Task Dashboard_CriticalEventPublished_ShownAsTextWithoutAReload_AndGoneOnceResolved()
    {
        await using WebApplicationFactory<PagerDutyPager> host = ConsumerHost(kestrel: true);
        await using ImmuneService checkout = Producer("checkout"), payments = Producer("payments");
        await payments.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "latency over 2 s") { Module = "api" });
        using Browser browser = Browser.Start(1280, 1000);

        browser.Driver.Navigate().GoToUrl(Address(host));
        browser.Wait().Until(_ => Rows(browser).Count == 1); // the page loaded and shows the fleet as it is
        browser.Script("window.__sameDocument = 42;"); // gone if the page reloads

        const string Hostile = "<script>window.__injected = 1</script><img src=x onerror=\"window.__injected = 2\"> disk on fire";
        long id = await checkout.PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, Hostile) { AgentId = "agent-7" });
        var clock = Stopwatch.StartNew();
        string key = $"checkout/{checkout.InstanceId}/{id}";
        browser.Wait().Until(_ => Row(browser, key));
        output.WriteLine($"The CRITICAL event appeared after {clock.ElapsedMilliseconds} ms.");

        // Read in one script, so the next refresh cannot redraw the row between two reads.
        var row = (IReadOnlyList<object>)browser.Script($"const r = document.querySelector('#incidents tbody tr[data-key=\"{key}\"]'); return [r.className, r.querySelector('td.message').innerText];")!;
        ((string)row[0]).ShouldContain("critical");
        ((string)row[1]).ShouldStartWith(Hostile); // shown as the characters it is made of
        browser.Script("return window.__injected;").ShouldBeNull();
        browser.Script("return window.__sameDocument;").ShouldBe(42L);
        browser.Script("return document.querySelector('#incidents tbody tr').getAttribute('data-key');").ShouldBe(key); // CRITICAL first
        browser.Wait().Until(_ => browser.Driver.FindElement(By.Id("fleet-status")).Text.Contains("Critical", StringComparison.Ordinal));
        var tile = (IReadOnlyList<object>)browser.Script("const t = document.querySelector(\"li.tile[data-source='checkout']\"); return [t.innerText, t.querySelector('dd.critical').innerText];")!;
        ((string)tile[0]).ShouldContain("Critical"); // status as a word, not colour alone
        ((string)tile[1]).ShouldBe("1");
        browser.Wait().Until(_ => browser.Driver.FindElements(By.CssSelector("#chart rect.bar.critical")).Count > 0);
        output.WriteLine("Screenshot: " + browser.Screenshot("dashboard"));

        (await checkout.ChangeSeverityAsync(id, ImmuneSeverity.Info)).ShouldBeTrue();
        browser.Wait().Until(_ => Row(browser, key) is null);
        Rows(browser).Count.ShouldBe(1); // the WARNING stays open
        browser.Driver.FindElement(By.Id("fleet-status")).Text.ShouldContain("Degraded");
        browser.Script("return window.__sameDocument;").ShouldBe(42L);
    }

    private static ReadOnlyCollection<IWebElement> Rows(Browser browser) => browser.Driver.FindElements(By.CssSelector("#incidents tbody tr"));

    private static IWebElement? Row(Browser browser, string key) => Rows(browser).FirstOrDefault(r => r.GetAttribute("data-key") == key);
}
