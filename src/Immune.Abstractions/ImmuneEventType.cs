namespace Immune;

/// <summary>What kind of health signal an immune event is.</summary>
/// <remarks>On the wire: <c>"POLICY_VIOLATION"</c>, <c>"ERROR_SPIKE"</c>, <c>"SELF_HEALING_ACTION"</c>.</remarks>
public enum ImmuneEventType
{
    /// <summary>A rule or policy was broken. Wire value <c>"POLICY_VIOLATION"</c>.</summary>
    PolicyViolation = 0,

    /// <summary>Errors rose above their usual rate. Wire value <c>"ERROR_SPIKE"</c>.</summary>
    ErrorSpike = 1,

    /// <summary>The system repaired itself (restart, failover, rollback, …). Wire value <c>"SELF_HEALING_ACTION"</c>.</summary>
    SelfHealingAction = 2,
}
