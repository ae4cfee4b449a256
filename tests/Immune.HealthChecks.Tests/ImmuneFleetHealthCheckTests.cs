using Immune.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Immune.HealthChecks.Tests;

/// <summary>
/// <c>AddHealthChecks().AddImmuneFleet()</c>: a consumer's health from its feeds and its paging — stale is shown as stale,
/// a failing pager too — answered from memory at once, whatever the broker does.
/// </summary>
public sealed class ImmuneFleetHealthCheckTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));

    /// <summary>A feed whose reads are told: a count, an exception, or (with <see cref="Hang"/>) a read that never ends.</summary>
    private sealed class ToldFeed(TimeProvider time) : ImmuneFeed("told feed", TimeSpan.FromSeconds(1), null, time)
    {
        public Func<int> Read { get; set; } = static () => 1;

        public bool Hang { get; set; }

        public void Lose(long count) => ReportLost(count, "stream");

        protected override async ValueTask<int> ReadAsync(CancellationToken cancellationToken)
        {
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return Read();
        }
    }

    private (ServiceProvider Provider, ToldFeed Feed, RecordingPager Pager) Build()
    {
        var feed = new ToldFeed(_time);
        var pager = new RecordingPager();
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_time).AddSingleton<ImmuneFeed>(feed);
        services.AddSingleton(new ImmunePaging(pager, new InMemoryPagerLedger(), timeProvider: _time));
        services.AddHealthChecks().AddImmuneFleet();
        return (services.BuildServiceProvider(), feed, pager);
    }

    private static async Task<HealthReportEntry> CheckAsync(ServiceProvider provider)
        => (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(HangGuard)).Entries["immune-fleet"];

    [Fact]
    public async Task Check_NeverRead_Unhealthy_ReadRecently_Healthy_NoReadForOverThirtySeconds_DegradedSayingSince()
    {
        (ServiceProvider provider, ToldFeed feed, _) = Build();
        await using ServiceProvider owned = provider;

        (await CheckAsync(provider)).Status.ShouldBe(HealthStatus.Unhealthy);
        await feed.ReadOnceAsync();
        (await CheckAsync(provider)).Status.ShouldBe(HealthStatus.Healthy);
        _time.Advance(TimeSpan.FromSeconds(31));

        HealthReportEntry stale = await CheckAsync(provider);
        stale.Status.ShouldBe(HealthStatus.Degraded);
        stale.Description.ShouldNotBeNull().ShouldContain("told feed has not read its broker since 2026-12-06T09:00:00.0000000+00:00 (31 s)");
        ((IDictionary<string, object?>)stale.Data["told feed"])["last_read_at"].ShouldBe("2026-12-06T09:00:00.0000000+00:00");
    }

    [Fact]
    public async Task Check_TheBrokerHangs_TheCheckStillAnswersAtOnce_AndSaysItIsStale()
    {
        (ServiceProvider provider, ToldFeed feed, _) = Build();
        await using ServiceProvider owned = provider;
        await feed.ReadOnceAsync();
        feed.Hang = true;
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token); // its read never returns, as against a broker that does not answer
        _time.Advance(TimeSpan.FromMinutes(2));

        (await CheckAsync(provider)).Status.ShouldBe(HealthStatus.Degraded); // the check reads memory, never the broker

        await stop.CancelAsync();
        await running.WaitAsync(HangGuard);
    }

    [Fact]
    public async Task Check_EntriesLost_OrThePagerFailing_Degraded_WithWhatAndSince()
    {
        (ServiceProvider provider, ToldFeed feed, RecordingPager pager) = Build();
        await using ServiceProvider owned = provider;
        await feed.ReadOnceAsync();
        feed.Lose(12);

        HealthReportEntry lost = await CheckAsync(provider);
        lost.Status.ShouldBe(HealthStatus.Degraded);
        lost.Description.ShouldNotBeNull().ShouldContain("told feed found 12 entries gone before it read them");

        pager.Problem = static () => new HttpRequestException("HTTP 503");
        var critical = new EventEnvelope("evt_1", ImmuneEventTypes.CriticalEvent, "checkout", null, _time.GetUtcNow(),
            new ImmuneCriticalEventPayload(1, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "m", _time.GetUtcNow()), new EventMeta("c"));
        await Should.ThrowAsync<HttpRequestException>(() => provider.GetRequiredService<ImmunePaging>().HandleAsync(critical));
        HealthReportEntry failing = await CheckAsync(provider);
        failing.Description.ShouldNotBeNull().ShouldContain("the pager has not taken pages since 2026-12-06T09:00:00.0000000+00:00; they stay pending: HttpRequestException: HTTP 503");
        ((IDictionary<string, object?>)failing.Data["pager"])["failed"].ShouldBe(1L);
    }
}
