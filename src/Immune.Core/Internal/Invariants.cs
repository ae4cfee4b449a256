namespace Immune.Internal;

/// <summary>
/// The order in which Immune takes its locks, written once, and the checks that hold the code to it and to the
/// accounting identity. The checks run when the AppContext switch <c>Immune.CheckInvariants</c> is on (the test projects
/// turn it on; a shipped service leaves it off, and the JIT removes the checks as dead code).
/// </summary>
/// <remarks>
/// <para>The lock order, outermost first:</para>
/// <list type="number">
/// <item><description>the service's lock (<c>ImmuneService</c>): recording, summaries, storm folding; a publisher holds it while it queues, which makes sequence order record order;</description></item>
/// <item><description>the pipeline's lock (<c>DeliveryPipeline</c>): queueing, taking a batch, settling, stats.</description></item>
/// </list>
/// <para>
/// Under neither: the spool's write turn, then the pipeline's lock or the spool's own lock, one at a time (writing to
/// disk, <c>SpoolHandOff</c>); the spool's forcing turn (fsyncs, deletions) under no lock at all; every stream call and
/// every report of the <c>DeliveryReporter</c> but the rare logs named as such. No lock is ever held across an await.
/// What a caller queues under the locks it announces after them, by disposing its <c>DeliveryIntake</c>.
/// </para>
/// </remarks>
internal static class Invariants
{
    /// <summary>Gets whether the checks run (the <c>Immune.CheckInvariants</c> switch).</summary>
    public static readonly bool Checked = AppContext.TryGetSwitch("Immune.CheckInvariants", out bool on) && on;

    /// <summary>Fails when <paramref name="gate"/> is not held by this thread.</summary>
    public static void Held(Gate gate, string name)
    {
        if (Checked && !IsHeld(gate))
        {
            throw new InvalidOperationException($"Invariant broken: {name} must be held here.");
        }
    }

    /// <summary>Fails when <paramref name="gate"/> is held by this thread (the work ahead waits for the disk or the stream).</summary>
    public static void NotHeld(Gate gate, string name)
    {
        if (Checked && IsHeld(gate))
        {
            throw new InvalidOperationException($"Invariant broken: {name} must not be held here.");
        }
    }

    /// <summary>Fails unless every envelope queued is delivered, failed, dropped or pending: <c>Queued == Delivered + Failed + Dropped + Pending</c>.</summary>
    public static void Balanced(ImmuneDeliveryStats stats)
    {
        if (Checked && stats.Queued != stats.Delivered + stats.Failed + stats.Dropped + stats.Pending)
        {
            throw new InvalidOperationException($"Invariant broken: the accounting does not balance: {stats}.");
        }
    }

    private static bool IsHeld(Gate gate)
#if NET9_0_OR_GREATER
        => gate.IsHeldByCurrentThread;
#else
        => Monitor.IsEntered(gate);
#endif
}
