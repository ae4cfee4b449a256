using System.Diagnostics.Metrics;
using System.Text.Json;
using Immune.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenQA.Selenium;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>
/// An open CRITICAL stays open in the JSON, the meter and the page however much else arrives and however old it gets:
/// a flood of INFO from another source the size of the view's retention, then more than the summary's hour.
/// </summary>
public sealed class OpenIncidentsTests
{
    [Fact]
    public async Task ACriticalThenAFloodOfInfoThenMoreThanAnHour_StaysOpenInTheJsonTheMeterAndThePage()
    {
        await using FleetApp fleet = await FleetApp.StartAsync(o => o.RetentionCapacity = 10_000);
        fleet.Publish("checkout", 1, ImmuneSeverity.Critical, "disk on fire");
        for (int i = 1; i <= 10_000; i++)
        {
            fleet.Publish("search", i, ImmuneSeverity.Info);
        }

        Task read = fleet.Feed.NextRead;
        fleet.Time.Advance(TimeSpan.FromMinutes(61));
        await read.WaitAsync(FleetApp.HangGuard); // the feed still reads: live, and nothing new

        JsonElement health = await fleet.GetJsonAsync("api/immune/fleet/health");
        health.GetProperty("open_incidents").GetInt32().ShouldBe(1);
        health.GetProperty("open_critical_incidents").GetInt32().ShouldBe(1);
        health.GetProperty("live").GetBoolean().ShouldBeTrue();
        health.GetProperty("sources")[0].GetProperty("source").GetString().ShouldBe("checkout");
        (await fleet.GetJsonAsync("api/immune/fleet/incidents"))[0].GetProperty("message").GetString().ShouldBe("disk on fire");

        var meters = fleet.App.Services.GetRequiredService<IMeterFactory>();
        using var open = new MetricCollector<int>(meters, "Immune.Fleet", "immune.fleet.open_incidents");
        using var perSource = new MetricCollector<int>(meters, "Immune.Fleet", "immune.fleet.source.open_incidents");
        open.RecordObservableInstruments();
        perSource.RecordObservableInstruments();
        open.GetMeasurementSnapshot().ShouldContain(m => (string?)m.Tags["severity"] == "critical" && m.Value == 1);
        perSource.GetMeasurementSnapshot().ShouldContain(m => (string?)m.Tags["source"] == "checkout" && (string?)m.Tags["severity"] == "critical" && m.Value == 1);

        using Browser browser = Browser.Start();
        browser.Driver.Navigate().GoToUrl(fleet.Address);
        browser.Wait().Until(_ => browser.Refreshed() > 0);
        browser.Driver.FindElement(By.Id("fleet-status")).Text.ShouldContain("Critical"); // though the window's events are older
        browser.Driver.FindElement(By.CssSelector("li.tile[data-source='checkout']")).Text.ShouldContain("Critical");
        browser.Driver.FindElement(By.CssSelector("#incidents tbody tr td.message")).Text.ShouldStartWith("disk on fire");
        browser.Driver.FindElement(By.CssSelector("#incidents tbody tr")).Text.ShouldContain("(1h 1m ago)");
    }
}
