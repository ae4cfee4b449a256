using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Immune.Tests.Delivery;

/// <summary>
/// <see cref="EnvelopeRejectedException"/> through the service: the envelopes it names fail at once as <c>rejected</c>
/// (stats, the failed-envelopes metric's reason, one log entry), the rest is delivered in order, and the stream is not
/// taken for failing.
/// </summary>
public sealed class RejectionTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();

    public void Dispose() => _meters.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PublishAsync_TheStreamRejectsOneEnvelope_ItFailsAsRejected_TheRestIsDeliveredInOrder_NoFailingSince(bool batches)
    {
        using var failed = new MetricCollector<long>(_meters, "Immune", "immune.envelopes.failed");
        var logger = new FakeLogger<ImmuneService>();
        static ValueTask Check(EventEnvelope envelope)
            => envelope.Payload.Message == "oversized" ? ValueTask.FromException(new EnvelopeRejectedException("over the broker's limit", [envelope.Id])) : ValueTask.CompletedTask;
        var accepted = new InMemoryEventStream();
        IEventStream stream = batches
            ? new ScriptedBatchStream(async (_, batch, _) => { foreach (EventEnvelope e in batch) await Check(e); })
            : new ScriptedStream(call => Check(call.Envelope));
        await using var service = new ImmuneService(stream, new ImmuneOptions { MaxBatchSize = 64 }, logger, null, _meters);

        for (int i = 0; i < 20; i++)
        {
            await service.PublishAsync(Events.Warning(i == 7 ? "oversized" : $"fine {i}"));
        }

        await service.Flushed();
        ImmuneDeliveryStats stats = service.GetDeliveryStats();
        stats.ShouldBeBalanced();
        (stats.Delivered, stats.Failed, stats.FailedRejected, stats.FailingSince).ShouldBe((19L, 1L, 1L, (DateTimeOffset?)null));
        failed.GetMeasurementSnapshot().ShouldHaveSingleItem().Tags["reason"].ShouldBe("rejected");
        logger.WithName("EnvelopeFailed").ShouldHaveSingleItem().GetStructuredStateValue("Reason").ShouldBe("rejected");
        logger.WithName("StreamFailing").ShouldBeEmpty();
        IEnumerable<string> delivered = batches ? ((ScriptedBatchStream)stream).Accepted.Select(e => e.Payload.Message) : ((ScriptedStream)stream).Accepted.Select(e => e.Payload.Message);
        delivered.ShouldBe(Enumerable.Range(0, 20).Where(i => i != 7).Select(i => $"fine {i}"));
    }
}
