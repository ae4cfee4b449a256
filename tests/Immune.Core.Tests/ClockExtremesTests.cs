using Immune.Tests.TestDoubles;

namespace Immune.Tests;

/// <summary>
/// No public call throws for the clock's value: a wall clock at either end of <see cref="DateTimeOffset"/>'s range, or
/// jumping between them in any order (as a clock that NTP steps, or a consumer's fake clock, may), changes what is
/// recorded and when, but never fails a publish, a change, a summary, a flush or a disposal; every envelope still
/// reaches the stream, reads back from the wire as it was written, and folds into a fleet view. A property test on a
/// fixed seed, with folding and a spool on.
/// </summary>
public sealed class ClockExtremesTests
{
    private static readonly DateTimeOffset[] Clocks =
    [
        DateTimeOffset.MinValue,
        DateTimeOffset.MinValue.AddMilliseconds(1),
        DateTimeOffset.UnixEpoch.AddMilliseconds(-1),
        DateTimeOffset.UnixEpoch,
        new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero),
        DateTimeOffset.MaxValue.AddMilliseconds(-1),
        DateTimeOffset.MaxValue.AddTicks(-1),
        DateTimeOffset.MaxValue,
    ];

    private static readonly TimeSpan[] Windows = [TimeSpan.Zero, TimeSpan.FromTicks(1), TimeSpan.FromHours(1), TimeSpan.FromDays(365 * 9000), TimeSpan.MaxValue];

    [Theory]
    [InlineData(ImmuneDelivery.Background, 1)]
    [InlineData(ImmuneDelivery.Background, 2)]
    [InlineData(ImmuneDelivery.Inline, 3)]
    public async Task EveryPublicCall_ClockAtTheEndsOfItsRangeAndJumpingBetweenThem_NeverThrows_AndEveryEnvelopeIsDelivered(ImmuneDelivery delivery, int seed)
    {
        var random = new Random(seed);
        var clock = new ManualClock(Clocks[0]);
        var stream = new InMemoryEventStream();
        using var spool = new TempDirectory();
        var options = new ImmuneOptions { Delivery = delivery, FoldWindow = TimeSpan.FromSeconds(1), SpoolDirectory = spool.Path, RetentionCapacity = 50 };
        var service = new ImmuneService(stream, options, timeProvider: clock);
        long lastId = 0;

        for (int step = 0; step < 400; step++)
        {
            clock.Now = Clocks[random.Next(Clocks.Length)];
            switch (random.Next(6))
            {
                case 0 or 1:
                    var severity = (ImmuneSeverity)random.Next(3);
                    long id = await service.PublishAsync(new NewImmuneEvent(severity, ImmuneEventType.ErrorSpike, $"m{random.Next(3)}") { Meta = new Dictionary<string, object?> { ["at"] = clock.Now } });
                    id.ShouldBeGreaterThanOrEqualTo(1);
                    lastId = Math.Max(lastId, id);
                    break;
                case 2:
                    await service.ChangeSeverityAsync(1 + random.NextInt64(Math.Max(1, lastId)), (ImmuneSeverity)random.Next(3));
                    break;
                case 3:
                    service.GetRecentEvents(Windows[random.Next(Windows.Length)]).ShouldNotBeNull();
                    break;
                case 4:
                    service.GetHealthSummary(Windows[random.Next(Windows.Length)]).ShouldNotBeNull();
                    break;
                default:
                    service.GetDeliveryStats().ShouldBeBalanced();
                    break;
            }
        }

        await service.Flushed();
        await service.DisposeAsync().AsTask().WaitAsync(Events.HangGuard);

        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        (stats.Failed, stats.Dropped, stats.Pending).ShouldBe((0L, 0L, 0L), stats.ToString());
        var view = new ImmuneFleetView(timeProvider: clock);
        foreach (EventEnvelope envelope in stream.Envelopes)
        {
            ImmuneJson.DeserializeEnvelope(ImmuneJson.SerializeToUtf8Bytes(envelope)).Id.ShouldBe(envelope.Id);
            view.Apply(envelope).ShouldBeTrue();
            clock.Now = Clocks[random.Next(Clocks.Length)];
            view.GetHealthSummary(Windows[random.Next(Windows.Length)]).ShouldNotBeNull();
        }
    }
}
