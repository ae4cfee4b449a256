using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace Immune.Tests.Delivery;

/// <summary>
/// Deadlines need a try, through the service as a consumer uses it: a clock that jumps while nothing was attempted
/// takes nothing, and an attempt in flight ends at its envelope's delivery deadline rather than at its publish timeout.
/// </summary>
public sealed class DeadlineTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task PublishAsync_FakeClockAdvancedPastTheDeliveryTimeoutBetweenPublishes_EveryEnvelopeIsDelivered()
    {
        // The consumer's test: publish, advance the fake clock past two minutes, publish again, flush. Whether or not the
        // loop had tried the first envelopes before the jump, nothing failed at or after their deadline: nothing fails.
        for (int run = 0; run < 100; run++)
        {
            var time = new FakeTimeProvider(Start);
            var stream = new InMemoryEventStream();
            await using var service = new ImmuneService(stream, timeProvider: time);

            await service.PublishAsync(Events.Critical("before"));
            time.Advance(TimeSpan.FromMinutes(3));
            await service.PublishAsync(Events.Info("after"));
            await service.Flushed();

            ImmuneDeliveryStats stats = service.GetDeliveryStats();
            (stats.Delivered, stats.Failed, stats.Dropped).ShouldBe((3L, 0L, 0L), $"run {run}");
            stream.Envelopes.Select(e => e.Payload.Message).ShouldBe(["before", "before", "after"]);
        }
    }

    [Fact]
    public async Task Inline_BrokerNeverAnswers_PublishReturnsAtTheDeliveryTimeout_NotAtThePublishTimeout()
    {
        var time = new ObservableTimeProvider(Start);
        ScriptedStream stream = ScriptedStream.Hung();
        var options = new ImmuneOptions
        {
            Delivery = ImmuneDelivery.Inline,
            DeliveryTimeout = TimeSpan.FromSeconds(1),
            PublishTimeout = TimeSpan.FromSeconds(5),
            ShutdownTimeout = TimeSpan.Zero,
        };
        await using var service = new ImmuneService(stream, options, timeProvider: time);

        ValueTask<long> publishing = service.PublishAsync(Events.Warning());
        (await time.NextWatchdog()).ShouldBe(TimeSpan.FromSeconds(1)); // the call ends at the envelope's deadline
        await stream.WhenCalled(1);
        time.Advance(TimeSpan.FromSeconds(1));

        (await publishing.AsTask().WaitAsync(Events.HangGuard)).ShouldBe(1);
        time.GetUtcNow().ShouldBe(Start + TimeSpan.FromSeconds(1));
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        (stats.FailedTimeout, stats.Pending).ShouldBe((1L, 0L));
        stream.CallCount.ShouldBe(1); // tried once, failed at its deadline: no attempt after it
    }
}
