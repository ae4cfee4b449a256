#if NET9_0_OR_GREATER
using Gate = System.Threading.Lock;
#else
using Gate = System.Object;
#endif
using System.Diagnostics;
using Immune.Delivery;
using Immune.Internal;
using Immune.Tests.TestDoubles;
using Microsoft.Extensions.Logging.Abstractions;

namespace Immune.Tests.Internal;

/// <summary>The lock-order and accounting checks are on in every test run, and they catch what they are for.</summary>
public sealed class InvariantsTests
{
    [Fact]
    public void Checked_InTheTestBuild_IsOn() => Invariants.Checked.ShouldBeTrue();

    [Fact]
    public void Held_AndNotHeld_SayWhichLockWasWrong()
    {
        var gate = new Gate();

        Should.Throw<InvalidOperationException>(() => Invariants.Held(gate, "the pipeline's lock")).Message.ShouldBe("Invariant broken: the pipeline's lock must be held here.");
        lock (gate)
        {
            Invariants.Held(gate, "the pipeline's lock");
            Should.Throw<InvalidOperationException>(() => Invariants.NotHeld(gate, "the service's lock")).Message.ShouldBe("Invariant broken: the service's lock must not be held here.");
        }

        Invariants.NotHeld(gate, "the service's lock");
    }

    [Fact]
    public void Balanced_AnEnvelopeUnaccountedFor_Throws()
    {
        Invariants.Balanced(new ImmuneDeliveryStats { Queued = 5, Delivered = 2, Failed = 1, Dropped = 1, Pending = 1 });

        Should.Throw<InvalidOperationException>(() => Invariants.Balanced(new ImmuneDeliveryStats { Queued = 5, Delivered = 2, Failed = 1, Dropped = 1 }))
            .Message.ShouldStartWith("Invariant broken: the accounting does not balance");
    }

    [Fact]
    public async Task Pipeline_QueueingWithoutTheServicesLock_IsCaught()
    {
        var serviceGate = new Gate();
        using var metrics = new ImmuneMetrics(null, () => 0, () => 0);
        var reporter = new DeliveryReporter(NullLogger.Instance, metrics, TimeProvider.System, TimeSpan.FromMinutes(1));
        var pipeline = new DeliveryPipeline(new InMemoryEventStream(), new ImmuneOptions(), "i", TimeProvider.System, reporter, serviceGate: serviceGate);
        var e = new ImmuneEvent(1, DateTimeOffset.UnixEpoch, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m");

        Should.Throw<InvalidOperationException>(() => pipeline.Enqueue(EnvelopeKind.EventPublished, e, e.CreatedAt, default, ActivityTraceId.CreateRandom(), critical: false))
            .Message.ShouldContain("the service's lock");

        Enqueued enqueued;
        lock (serviceGate)
        {
            enqueued = pipeline.Enqueue(EnvelopeKind.EventPublished, e, e.CreatedAt, default, ActivityTraceId.CreateRandom(), critical: false);
            Should.Throw<InvalidOperationException>(() => pipeline.Announce(enqueued)).Message.ShouldContain("must not be held");
        }

        pipeline.Announce(enqueued);
        await pipeline.FlushAsync(CancellationToken.None).WaitAsync(Events.HangGuard);
        pipeline.GetStats().Delivered.ShouldBe(1);
        await pipeline.StopAsync().WaitAsync(Events.HangGuard);
    }
}
