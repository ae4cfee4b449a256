namespace Immune.Samples.Api;

/// <summary>The wire names of the enums (EVENTS.md), derived from the enums themselves: POLICY_VIOLATION for PolicyViolation.</summary>
public static class WireNames
{
    /// <summary>INFO, WARNING, CRITICAL.</summary>
    public static readonly IReadOnlyDictionary<string, ImmuneSeverity> Severities = Of<ImmuneSeverity>();

    /// <summary>POLICY_VIOLATION, ERROR_SPIKE, SELF_HEALING_ACTION.</summary>
    public static readonly IReadOnlyDictionary<string, ImmuneEventType> Types = Of<ImmuneEventType>();

    private static Dictionary<string, T> Of<T>() where T : struct, Enum
        => Enum.GetValues<T>().ToDictionary(v => System.Text.Json.JsonNamingPolicy.SnakeCaseUpper.ConvertName(v.ToString()), StringComparer.Ordinal);
}
