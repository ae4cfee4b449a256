using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Immune.HealthChecks.Tests;

/// <summary><c>AddHealthChecks().AddImmune()</c>: the service's health from its summary and its delivery, the worst winning.</summary>
public sealed class ImmuneHealthCheckTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));

    private ServiceProvider Build(IEventStream stream, Action<ImmuneHealthCheckOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_time).AddSingleton(stream);
        services.AddImmune(o => { o.RetryDelay = TimeSpan.FromSeconds(1); o.ShutdownTimeout = TimeSpan.Zero; }); // the fake clock never reaches a drain timeout
        services.AddHealthChecks().AddImmune(configure ?? (static _ => { }));
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> CheckAsync(ServiceProvider provider)
        => (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(HangGuard)).Entries["immune"];

    [Theory]
    [InlineData(null, HealthStatus.Healthy)]
    [InlineData(ImmuneSeverity.Info, HealthStatus.Healthy)]
    [InlineData(ImmuneSeverity.Warning, HealthStatus.Degraded)]
    [InlineData(ImmuneSeverity.Critical, HealthStatus.Unhealthy)]
    public async Task Check_FollowsTheWorstSeverityInTheWindow(ImmuneSeverity? severity, HealthStatus expected)
    {
        await using ServiceProvider provider = Build(new InMemoryEventStream());
        if (severity is { } s)
        {
            await provider.GetRequiredService<IImmuneService>().PublishAsync(new NewImmuneEvent(s, ImmuneEventType.ErrorSpike, "m"));
        }

        HealthReportEntry entry = await CheckAsync(provider);

        entry.Status.ShouldBe(expected);
        entry.Data["critical_issues"].ShouldBe(severity == ImmuneSeverity.Critical ? 1 : 0);
        entry.Description.ShouldNotBeNull().ShouldContain("in the last 15 minutes");
    }

    [Fact]
    public async Task Check_ACriticalEventOutOfTheWindow_IsHealthyAgain_AndCriticalIsUnhealthyCanBeTurnedOff()
    {
        await using ServiceProvider provider = Build(new InMemoryEventStream(), o => { o.Window = TimeSpan.FromMinutes(5); o.CriticalIsUnhealthy = false; });
        await provider.GetRequiredService<IImmuneService>().PublishAsync(new NewImmuneEvent(ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "m"));

        (await CheckAsync(provider)).Status.ShouldBe(HealthStatus.Degraded);
        _time.Advance(TimeSpan.FromMinutes(6));
        (await CheckAsync(provider)).Status.ShouldBe(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Check_StreamFailingLongerThanTheThreshold_DegradedWithTheReasonInTheData_HealthyBeforeIt()
    {
        var stream = new DownStream();
        await using ServiceProvider provider = Build(stream);
        await provider.GetRequiredService<IImmuneService>().PublishAsync(new NewImmuneEvent(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "held"));
        await stream.Tried.Task.WaitAsync(HangGuard);

        (await CheckAsync(provider)).Status.ShouldBe(HealthStatus.Healthy); // a blink rides through unreported
        _time.Advance(TimeSpan.FromSeconds(31));
        HealthReportEntry entry = await CheckAsync(provider);

        entry.Status.ShouldBe(HealthStatus.Degraded);
        entry.Description.ShouldNotBeNull().ShouldContain("the event stream has been failing for 31 s; 1 envelope(s) are held for delivery");
        entry.Data["stream_failing_seconds"].ShouldBe(31.0);
        entry.Data["envelopes_pending"].ShouldBe(1L);
    }

    [Fact]
    public void AddImmune_InvalidOptions_FailAtRegistrationNamingEachOne()
    {
        var exception = Should.Throw<ArgumentException>(() => new ServiceCollection().AddHealthChecks().AddImmune(o => { o.Window = TimeSpan.Zero; o.Name = " "; o.StreamFailingThreshold = TimeSpan.FromSeconds(-1); }));

        exception.Message.ShouldStartWith("Invalid ImmuneHealthCheckOptions:");
        foreach (string name in new[] { "Window", "Name", "StreamFailingThreshold" })
        {
            exception.Message.ShouldContain(name);
        }
    }

    private sealed class DownStream : IEventStream
    {
        public TaskCompletionSource Tried { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken = default)
        {
            Tried.TrySetResult();
            return ValueTask.FromException(new IOException("broker down"));
        }
    }
}
