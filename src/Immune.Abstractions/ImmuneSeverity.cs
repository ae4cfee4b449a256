namespace Immune;

/// <summary>How serious an immune event is. Ordered: <see cref="Info"/> &lt; <see cref="Warning"/> &lt; <see cref="Critical"/>.</summary>
/// <remarks>On the wire: <c>"INFO"</c>, <c>"WARNING"</c>, <c>"CRITICAL"</c>.</remarks>
public enum ImmuneSeverity
{
    /// <summary>Informational; does not degrade health. Wire value <c>"INFO"</c>.</summary>
    Info = 0,

    /// <summary>Something is wrong but the service still works; health is degraded. Wire value <c>"WARNING"</c>.</summary>
    Warning = 1,

    /// <summary>The service is failing or at risk; someone should act now. Wire value <c>"CRITICAL"</c>.</summary>
    Critical = 2,
}
