using System.Globalization;
using System.Text;

namespace Immune.Internal;

/// <summary>Collects what is wrong with an options object, so one exception can name every invalid option.</summary>
internal sealed class OptionsProblems(string optionsName)
{
    private readonly List<string> _problems = [];

    public void Add(string problem) => _problems.Add(problem);

    public void Range(string name, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be from {min:N0} to {max:N0} (was {value:N0})."));
        }
    }

    public void Range(string name, TimeSpan value, TimeSpan min, TimeSpan max, bool orInfinite = false)
    {
        if (value < min || value > max)
        {
            string infinite = orInfinite ? ", or Timeout.InfiniteTimeSpan" : string.Empty;
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be from {min} to {max}{infinite} (was {value})."));
        }
    }

    /// <summary>Throws one <see cref="ArgumentException"/> (parameter <c>options</c>) listing every problem, if any.</summary>
    public void ThrowIfAny()
    {
        if (_problems.Count == 0)
        {
            return;
        }

        var message = new StringBuilder("Invalid ").Append(optionsName).Append(':');
        foreach (string problem in _problems)
        {
            message.Append(' ').Append(problem);
        }

        throw new ArgumentException(message.ToString(), "options");
    }
}
