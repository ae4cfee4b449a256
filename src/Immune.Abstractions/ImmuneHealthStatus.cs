namespace Immune;

/// <summary>The overall health over a window, derived from the severities of the events in it.</summary>
public enum ImmuneHealthStatus
{
    /// <summary>No WARNING or CRITICAL event in the window.</summary>
    Healthy = 0,

    /// <summary>At least one WARNING event and no CRITICAL event in the window.</summary>
    Degraded = 1,

    /// <summary>At least one CRITICAL event in the window.</summary>
    Critical = 2,
}
