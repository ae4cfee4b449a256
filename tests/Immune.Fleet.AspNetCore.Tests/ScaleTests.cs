using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary>
/// 10,000 sources: the JSON lists the worst first and counts the rest, in a bounded size; the meter gives series of
/// their own to the sources with open incidents only, so a CRITICAL from the source seen last still has one.
/// </summary>
public sealed class ScaleTests
{
    private const int Sources = 10_000;

    private static async Task<FleetApp> FleetOf10000Async(Action<ImmuneFleetHostOptions>? options = null)
    {
        FleetApp fleet = await FleetApp.StartAsync(options);
        for (int i = 0; i < Sources; i++)
        {
            fleet.Publish($"service-{i:D5}", 1, i % 500 == 7 ? ImmuneSeverity.Warning : ImmuneSeverity.Info);
        }

        fleet.Publish("service-last-seen", 1, ImmuneSeverity.Critical, "disk on fire");
        return fleet;
    }

    [Fact]
    public async Task Health_10000Sources_TheWorstFirstAndTheRestCounted_InABoundedAnswer()
    {
        await using FleetApp fleet = await FleetOf10000Async();

        using HttpResponseMessage response = await fleet.Client.GetAsync("api/immune/fleet/health");
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        JsonElement health = JsonDocument.Parse(body).RootElement;

        body.Length.ShouldBeLessThan(16 * 1024);
        health.GetProperty("source_count").GetInt32().ShouldBe(Sources + 1);
        JsonElement[] listed = [.. health.GetProperty("sources").EnumerateArray()];
        listed.Length.ShouldBe(21); // the 20 WARNING sources and the CRITICAL one: every source with an open incident, within MaxSources (50)
        listed[0].GetProperty("source").GetString().ShouldBe("service-last-seen");
        health.GetProperty("sources_omitted").GetInt32().ShouldBe(Sources + 1 - 21);
        health.GetProperty("open_incidents").GetInt32().ShouldBe(21);

        JsonElement incidents = await fleet.GetJsonAsync("api/immune/fleet/incidents?max=5");
        incidents.GetArrayLength().ShouldBe(5);
        incidents[0].GetProperty("message").GetString().ShouldBe("disk on fire");
    }

    [Fact]
    public async Task Health_MoreSourcesWithIncidentsThanListed_ListsMaxSourcesWorstFirst()
    {
        await using FleetApp fleet = await FleetOf10000Async(o => o.MaxSources = 5);

        JsonElement health = await fleet.GetJsonAsync("api/immune/fleet/health");

        health.GetProperty("sources").GetArrayLength().ShouldBe(5);
        health.GetProperty("sources")[0].GetProperty("source").GetString().ShouldBe("service-last-seen");
        health.GetProperty("sources_omitted").GetInt32().ShouldBe(Sources + 1 - 5);
    }

    [Fact]
    public async Task Meter_10000Sources_SeriesOnlyForThoseWithOpenIncidents_TheCriticalSeenLastIncluded()
    {
        await using FleetApp fleet = await FleetOf10000Async(o => o.MetricSources = 10);
        var meters = fleet.App.Services.GetRequiredService<IMeterFactory>();
        using var perSource = new MetricCollector<int>(meters, "Immune.Fleet", "immune.fleet.source.open_incidents");
        using var fleetWide = new MetricCollector<int>(meters, "Immune.Fleet", "immune.fleet.open_incidents");
        using var sources = new MetricCollector<int>(meters, "Immune.Fleet", "immune.fleet.sources");

        perSource.RecordObservableInstruments();
        fleetWide.RecordObservableInstruments();
        sources.RecordObservableInstruments();

        var series = perSource.GetMeasurementSnapshot();
        series.Count.ShouldBe(2 * 10); // critical and warning of the 10 worst sources, not 10,001
        series.ShouldContain(m => (string?)m.Tags["source"] == "service-last-seen" && (string?)m.Tags["severity"] == "critical" && m.Value == 1);
        fleetWide.GetMeasurementSnapshot().ShouldContain(m => (string?)m.Tags["severity"] == "critical" && m.Value == 1);
        fleetWide.GetMeasurementSnapshot().ShouldContain(m => (string?)m.Tags["severity"] == "warning" && m.Value == 20);
        sources.LastMeasurement!.Value.ShouldBe(Sources + 1);
    }
}
