using System.Text.Json;
using Immune.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Immune.Fleet.AspNetCore.Tests;

/// <summary><c>AddImmuneFleet()</c> and <c>AddPager&lt;T&gt;()</c>: options checked at once, one registration however often called, paging through the broker's ledger wherever it comes in the chain, and paging's trouble shown.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void AddImmuneFleet_InvalidOptions_ThrowsNamingEachOne()
    {
        var exception = Should.Throw<ArgumentException>(() => new ServiceCollection().AddImmuneFleet(o =>
        {
            o.MaxSources = 0;
            o.StaleAfter = TimeSpan.Zero;
            o.IncidentCapacity = -1;
        }));

        exception.Message.ShouldContain(nameof(ImmuneFleetHostOptions.MaxSources));
        exception.Message.ShouldContain(nameof(ImmuneFleetHostOptions.StaleAfter));
        exception.Message.ShouldContain(nameof(ImmuneFleetHostOptions.IncidentCapacity));
        Should.Throw<ArgumentNullException>(() => ((IServiceCollection)null!).AddImmuneFleet());
        Should.Throw<ArgumentNullException>(() => new ServiceCollection().AddImmuneFleet(null!));
    }

    [Fact]
    public void AddImmuneFleet_Twice_RegistersOneHostOneView_TheFirstOptionsStay()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddImmuneFleet(o => o.MaxSources = 7);
        services.AddImmuneFleet(o => o.MaxSources = 9);

        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetServices<IHostedService>().OfType<FeedRunner>().Count().ShouldBe(1);
        provider.GetServices<ImmuneFleetView>().Count().ShouldBe(1);
        provider.GetRequiredService<ImmuneFleetHostOptions>().MaxSources.ShouldBe(7);
    }

    [Fact]
    public async Task AddImmuneFleet_Capacities_ReachTheView()
    {
        await using FleetApp fleet = await FleetApp.StartAsync(o => o.IncidentCapacity = 10);
        for (int i = 1; i <= 25; i++)
        {
            fleet.Publish("checkout", i, ImmuneSeverity.Warning);
        }

        JsonElement health = await fleet.GetJsonAsync("api/immune/fleet/health");
        health.GetProperty("open_incidents").GetInt32().ShouldBe(10);
        health.GetProperty("incidents_evicted").GetInt64().ShouldBe(15);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddPager_BrokerLedgerBeforeOrAfter_PagingGoesThroughIt(bool ledgerFirst)
    {
        var ledger = Substitute.For<IImmunePagerLedger>();
        ledger.SendOnceAsync(default!, default!, default, default!, default!, default).ReturnsForAnyArgs(true);
        var services = new ServiceCollection().AddLogging();
        if (ledgerFirst) services.AddSingleton(ledger);
        services.AddImmuneFleet().AddPager<RecordingPager>();
        if (!ledgerFirst) services.AddSingleton(ledger);
        await using ServiceProvider provider = services.BuildServiceProvider();

        EventEnvelope critical = Envelopes.Of("checkout", "i-1", 1, ImmuneSeverity.Critical, FleetApp.Start).Last();
        (await provider.GetRequiredService<ImmunePaging>().HandleAsync(critical)).ShouldBe(ImmunePagingResult.Sent);

        await ledger.Received(1).SendOnceAsync(ImmunePaging.DedupKey(critical), "trigger", FleetApp.Start, critical.Id, Arg.Any<Func<Task>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task AddPager_NoBrokerLedger_PagesOnceThroughOneInThisProcess()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddImmuneFleet().AddPager<RecordingPager>();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var paging = provider.GetRequiredService<ImmunePaging>();
        EventEnvelope critical = Envelopes.Of("checkout", "i-1", 1, ImmuneSeverity.Critical, FleetApp.Start).Last();

        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.Sent);
        (await paging.HandleAsync(critical)).ShouldBe(ImmunePagingResult.AlreadySent);
        ((RecordingPager)provider.GetRequiredService<IImmunePager>()).Sent.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Health_PagerCannotBeReached_SaysFailingSinceInTheJsonAndHealthz()
    {
        await using FleetApp fleet = await FleetApp.StartAsync(
            build: builder => builder.Services.AddImmuneFleet().AddPager<RecordingPager>(),
            map: app =>
            {
                app.MapImmuneFleet();
                app.MapHealthChecks("/healthz");
            });
        var pager = (RecordingPager)fleet.App.Services.GetRequiredService<IImmunePager>();
        var paging = fleet.App.Services.GetRequiredService<ImmunePaging>();
        pager.Problem = static () => new HttpRequestException("503 from the pager");

        await Should.ThrowAsync<HttpRequestException>(() => paging.HandleAsync(Envelopes.Of("checkout", "i-1", 1, ImmuneSeverity.Critical, FleetApp.Start).Last()));

        JsonElement health = await fleet.GetJsonAsync("api/immune/fleet/health");
        JsonElement paged = health.GetProperty("pager");
        paged.GetProperty("failed").GetInt64().ShouldBe(1);
        paged.GetProperty("sent").GetInt64().ShouldBe(0);
        paged.GetProperty("failing_since").GetDateTimeOffset().ShouldBe(FleetApp.Start);
        paged.GetProperty("last_problem").GetString().ShouldNotBeNull().ShouldContain("503 from the pager");
        (await fleet.Client.GetStringAsync("/healthz")).ShouldBe("Degraded");
    }
}
