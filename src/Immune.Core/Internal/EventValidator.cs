using System.Collections;
using System.Collections.ObjectModel;
using System.Globalization;

namespace Immune.Internal;

/// <summary>
/// Checks a <see cref="NewImmuneEvent"/> against the options' limits and copies its meta deeply, so that nothing the
/// caller changes later reaches the store or an envelope. Containers are copied; leaves (strings, boxed numbers,
/// booleans, …) are immutable and keep their CLR values.
/// </summary>
internal sealed class EventValidator(ImmuneOptions options)
{
    private const string MetaField = nameof(NewImmuneEvent.Meta);

    public IReadOnlyDictionary<string, object?>? Validate(NewImmuneEvent newEvent)
    {
        Guard.NotNull(newEvent, "newEvent");
        Guard.Defined(newEvent.Severity, nameof(NewImmuneEvent.Severity));
        Guard.Defined(newEvent.Type, nameof(NewImmuneEvent.Type));
        Guard.NotNull(newEvent.Message, nameof(NewImmuneEvent.Message));
        Text(newEvent.Message, nameof(NewImmuneEvent.Message), options.MaxMessageLength);
        if (newEvent.AgentId is not null) Text(newEvent.AgentId, nameof(NewImmuneEvent.AgentId), options.MaxAgentIdLength);
        if (newEvent.Module is not null) Text(newEvent.Module, nameof(NewImmuneEvent.Module), options.MaxModuleLength);

        if (newEvent.Meta is null)
        {
            return null;
        }

        try
        {
            return new MetaWalk(options).CopyDictionary(newEvent.Meta, depth: 1, ancestors: null);
        }
        catch (MetaProblem problem)
        {
            Guard.Fail(MetaField, problem.Message, MetaField + problem.Path);
            return null;
        }
    }

    private static void Text(string value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Guard.Fail(field, "must not be empty or whitespace.");
        }

        if (value.Length > maxLength)
        {
            Guard.Fail(field, string.Create(CultureInfo.InvariantCulture, $"must be at most {maxLength:N0} characters (was {value.Length:N0})."));
        }
    }

    /// <summary>One walk over one event's meta: it owns the value budget, so concurrent publishers never share one.</summary>
    private sealed class MetaWalk(ImmuneOptions options)
    {
        private int _budget = options.MaxMetaValues;

        public ReadOnlyDictionary<string, object?> CopyDictionary(object entries, int depth, Ancestor? ancestors)
        {
            Enter(entries, depth, ref ancestors);
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            switch (entries)
            {
                case IReadOnlyDictionary<string, object?> readOnly:
                    foreach (KeyValuePair<string, object?> pair in readOnly) Add(copy, pair.Key, pair.Value, depth, ancestors);
                    break;
                case IDictionary<string, object?> dictionary: // ExpandoObject and other mutable generic dictionaries
                    foreach (KeyValuePair<string, object?> pair in dictionary) Add(copy, pair.Key, pair.Value, depth, ancestors);
                    break;
                default:
                    foreach (DictionaryEntry entry in (IDictionary)entries)
                    {
                        if (entry.Key is not string key)
                        {
                            throw new MetaProblem($"has a key of type {entry.Key.GetType()}; keys must be strings.");
                        }

                        Add(copy, key, entry.Value, depth, ancestors);
                    }

                    break;
            }

            return new ReadOnlyDictionary<string, object?>(copy);
        }

        private void Add(Dictionary<string, object?> copy, string key, object? value, int depth, Ancestor? ancestors)
        {
            if (copy.Count == options.MaxMetaEntries)
            {
                throw new MetaProblem(string.Create(CultureInfo.InvariantCulture, $"has more than {options.MaxMetaEntries:N0} entries."));
            }

            try
            {
                CheckString(key, "key");
                copy[key] = CopyValue(value, depth, ancestors);
            }
            catch (MetaProblem problem)
            {
                throw problem.Under($"[\"{key}\"]");
            }
        }

        private ReadOnlyCollection<object?> CopyList(IEnumerable items, int depth, Ancestor? ancestors)
        {
            Enter(items, depth, ref ancestors);
            var copy = new List<object?>();
            foreach (object? item in items)
            {
                if (copy.Count == options.MaxMetaEntries)
                {
                    throw new MetaProblem(string.Create(CultureInfo.InvariantCulture, $"has more than {options.MaxMetaEntries:N0} entries."));
                }

                try
                {
                    copy.Add(CopyValue(item, depth, ancestors));
                }
                catch (MetaProblem problem)
                {
                    throw problem.Under(string.Create(CultureInfo.InvariantCulture, $"[{copy.Count}]"));
                }
            }

            return copy.AsReadOnly();
        }

        /// <summary>
        /// Copies one value, spending one unit of the event's value budget first: the budget bounds the total work of a
        /// walk whatever the shape, including containers shared many times over (which per-level limits alone do not).
        /// </summary>
        private object? CopyValue(object? value, int depth, Ancestor? ancestors)
        {
            if (--_budget < 0)
            {
                throw new MetaProblem(string.Create(CultureInfo.InvariantCulture, $"holds more than {options.MaxMetaValues:N0} values in all."));
            }

            return value switch
            {
                string text => CheckString(text, "string"),
                null or bool or int or long or short or byte or sbyte or ushort or uint or ulong or decimal or Guid or DateTimeOffset or DateTime => value,
                double d => double.IsFinite(d) ? value : throw new MetaProblem($"is {d}; JSON cannot carry a non-finite number."),
                float f => float.IsFinite(f) ? value : throw new MetaProblem($"is {f}; JSON cannot carry a non-finite number."),
                IReadOnlyDictionary<string, object?> or IDictionary<string, object?> or IDictionary => CopyDictionary(value, depth + 1, ancestors),
                IEnumerable list => CopyList(list, depth + 1, ancestors),
                _ => throw new MetaProblem($"holds a value of type {value.GetType()}, which JSON cannot carry."),
            };
        }

        private string CheckString(string text, string what) => text.Length <= options.MaxMetaStringLength
            ? text
            : throw new MetaProblem(string.Create(CultureInfo.InvariantCulture, $"has a {what} of {text.Length:N0} characters; at most {options.MaxMetaStringLength:N0} are allowed."));

        private void Enter(object container, int depth, ref Ancestor? ancestors)
        {
            for (Ancestor? ancestor = ancestors; ancestor is not null; ancestor = ancestor.Parent)
            {
                if (ReferenceEquals(ancestor.Container, container))
                {
                    throw new MetaProblem("is cyclic: it contains itself.");
                }
            }

            if (depth > options.MaxMetaDepth)
            {
                throw new MetaProblem(string.Create(CultureInfo.InvariantCulture, $"nests deeper than {options.MaxMetaDepth} levels."));
            }

            ancestors = new Ancestor(container, ancestors);
        }
    }

    private sealed record Ancestor(object Container, Ancestor? Parent);

    /// <summary>A problem found inside meta; each level on the way out prefixes its key, so the message names the exact place.</summary>
    private sealed class MetaProblem(string message, string path = "") : Exception(message)
    {
        public string Path { get; } = path;

        public MetaProblem Under(string segment) => new(Message, segment + Path);
    }
}
