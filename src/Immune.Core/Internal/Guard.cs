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

    /// <summary>Throws when <paramref name="value"/> is not a named member of its enum; the message lists the members.</summary>
    public static void Defined<TEnum>(TEnum value, string field)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            Fail(field, $"must be {string.Join(", ", Enum.GetNames<TEnum>()[..^1])} or {Enum.GetNames<TEnum>()[^1]} (was {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}).");
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
