using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Immune.Fleet.AspNetCore;

/// <summary>
/// The one rule for the fleet endpoints' query numbers (<c>minutes</c>, <c>max</c>, <c>sources</c>): absent means the
/// default; otherwise plain digits (no sign, space, fraction or exponent) from a minimum to a maximum, or a 400 problem
/// naming the parameter and saying what it must be.
/// </summary>
internal static class FleetQuery
{
    /// <summary>Reads a whole number from the query; false with the problem to answer when it is not one in range.</summary>
    public static bool TryRead(HttpContext context, string name, int fallback, int min, int max, out int value, out IResult? problem)
    {
        value = fallback;
        problem = null;
        string? text = context.Request.Query.TryGetValue(name, out var values) ? values.ToString() : null;
        if (text is null)
        {
            return true;
        }

        if (values.Count == 1 && text.Length is > 0 and <= 10 && text.All(char.IsAsciiDigit)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed >= min && parsed <= max)
        {
            value = parsed;
            return true;
        }

        string shown = text.Length > 40 ? text[..40] + "…" : text;
        string message = string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number from {min:N0} to {max:N0}, written in digits alone (was \"{shown}\").");
        problem = Results.ValidationProblem(new Dictionary<string, string[]> { [name] = [message] }, detail: message);
        return false;
    }
}
