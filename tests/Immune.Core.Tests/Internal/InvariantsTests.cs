#if NET9_0_OR_GREATER
using Gate = System.Threading.Lock;
#else
using Gate = System.Object;
#endif
using Immune.Internal;

namespace Immune.Tests.Internal;

/// <summary>The lock-order and accounting checks are on in every test run, and they catch what they are for (the pipeline's own: DeliveryPipelineTests).</summary>
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
}
