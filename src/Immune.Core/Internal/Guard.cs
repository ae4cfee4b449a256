using System.Diagnostics.CodeAnalysis;

namespace Immune.Internal;

/// <summary>The one place argument checks throw from, so every message names the field at fault the same way.</summary>
internal static class Guard
{
    /// <summary>Throws an <see cref="ArgumentException"/> for <paramref name="field"/>; <paramref name="subject"/> names the exact place inside it, when deeper.</summary>
    [DoesNotReturn]
    public static void Fail(string field, string problem, string? subject = null)
        => throw new ArgumentException($"{subject ?? field} {problem}", field);

    public static void NotNull([NotNull] object? value, string field)
    {
        if (value is null)
        {
            throw new ArgumentNullException(field, $"{field} must not be null.");
        }
    }

    public static void Defined(ImmuneSeverity severity, string field)
    {
        if (severity is not (ImmuneSeverity.Info or ImmuneSeverity.Warning or ImmuneSeverity.Critical))
        {
            Fail(field, $"must be Info, Warning or Critical (was {(int)severity}).");
        }
    }

    public static void Defined(ImmuneEventType type, string field)
    {
        if (type is not (ImmuneEventType.PolicyViolation or ImmuneEventType.ErrorSpike or ImmuneEventType.SelfHealingAction))
        {
            Fail(field, $"must be PolicyViolation, ErrorSpike or SelfHealingAction (was {(int)type}).");
        }
    }

    public static void Window(TimeSpan window)
    {
        if (window < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "window must not be negative.");
        }
    }
}
