using System.Globalization;

namespace Immune.Samples.Api;

/// <summary>
/// The samples' answers to client errors: a 4xx problem whose <c>detail</c> says what is wrong in plain words and
/// whose <c>errors</c> name each field, in the request's own (snake_case) terms. Compiled into each HTTP sample.
/// </summary>
internal static class HttpProblems
{
    /// <summary>The longest window a query may ask for: about 100 years, well inside <see cref="TimeSpan"/>.</summary>
    public const double MaxMinutes = 100 * 365.25 * 24 * 60;

    /// <summary>A 400 validation problem: <c>errors</c> by field, and their sentences together as the <c>detail</c>.</summary>
    public static IResult Validation(IDictionary<string, string[]> errors)
        => Results.ValidationProblem(errors, detail: string.Join(" ", errors.Values.SelectMany(messages => messages)));

    /// <summary>A 400 validation problem about one field.</summary>
    public static IResult Validation(string field, string message)
        => Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>
    /// Reads the <c>minutes</c> query parameter as a window: absent means <paramref name="fallback"/>; otherwise a number
    /// from 0 to <see cref="MaxMinutes"/> (invariant culture), else a problem naming it.
    /// </summary>
    public static bool TryWindow(string? minutes, TimeSpan fallback, out TimeSpan window, out IResult? problem)
    {
        window = fallback;
        problem = null;
        if (minutes is null)
        {
            return true;
        }

        bool number = double.TryParse(minutes, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value);
        if (number && value >= 0 && value <= MaxMinutes)
        {
            window = TimeSpan.FromMinutes(value);
            return true;
        }

        string shown = minutes.Length > 40 ? minutes[..40] + "…" : minutes;
        problem = Validation("minutes", number && value > MaxMinutes
            ? string.Create(CultureInfo.InvariantCulture, $"minutes must be at most {MaxMinutes:N0} (was {shown}).")
            : string.Create(CultureInfo.InvariantCulture, $"minutes must be a number from 0 to {MaxMinutes:N0} (was \"{shown}\")."));
        return false;
    }

    /// <summary>Reads an optional whole-number query parameter from <paramref name="min"/> to <paramref name="max"/>; a 400 naming it otherwise.</summary>
    public static bool TryCount(string name, string? text, int fallback, int min, int max, out int count, out IResult? problem)
    {
        count = fallback;
        problem = null;
        if (text is null)
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            count = value;
            return true;
        }

        string shown = text.Length > 40 ? text[..40] + "…" : text;
        problem = Validation(name, string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number from {min:N0} to {max:N0} (was \"{shown}\")."));
        return false;
    }
}
