using System.Text.Json;

namespace Immune.Samples.Api;

/// <summary>
/// Reads the JSON body of <c>POST /api/immune/event</c> field by field, so that every problem is answered with the
/// field's own snake_case name and a plain sentence: a wrong JSON kind, an unknown or repeated property, a repeated meta
/// key. Meta numbers keep their exact value (an integer is a <see cref="long"/>, <see cref="ulong"/> or
/// <see cref="decimal"/> when it fits one, never rounded through <see cref="double"/>).
/// </summary>
public static class EventRequestReader
{
    /// <summary>The fields the body may hold.</summary>
    public static readonly string[] Fields = ["severity", "type", "message", "agent_id", "module", "meta"];

    /// <summary>Reads an event; on failure returns <see langword="null"/> and fills <paramref name="errors"/> by field.</summary>
    public static NewImmuneEvent? Read(JsonElement body, Dictionary<string, string[]> errors)
    {
        if (ReadFields(body, Fields, errors) is not { } values)
        {
            return null;
        }

        ImmuneSeverity? severity = Enum(values, "severity", WireNames.Severities, errors);
        ImmuneEventType? type = Enum(values, "type", WireNames.Types, errors);
        string? message = Text(values, "message", required: true, errors);
        string? agentId = Text(values, "agent_id", required: false, errors);
        string? module = Text(values, "module", required: false, errors);
        IReadOnlyDictionary<string, object?>? meta = null;
        if (values.TryGetValue("meta", out JsonElement metaElement) && metaElement.ValueKind != JsonValueKind.Null)
        {
            if (metaElement.ValueKind != JsonValueKind.Object)
            {
                errors["meta"] = [$"meta must be a JSON object, not {Describe(metaElement.ValueKind)}."];
            }
            else
            {
                try
                {
                    meta = (IReadOnlyDictionary<string, object?>)Plain(metaElement, "meta")!;
                }
                catch (FormatException problem)
                {
                    errors["meta"] = [problem.Message];
                }
            }
        }

        return errors.Count > 0 ? null : new NewImmuneEvent(severity!.Value, type!.Value, message!) { AgentId = agentId, Module = module, Meta = meta };
    }

    /// <summary>
    /// Takes the properties of a body that must be an object of the <paramref name="allowed"/> fields: an unknown or
    /// repeated property is an error naming it. Returns null when the body is not an object.
    /// </summary>
    public static Dictionary<string, JsonElement>? ReadFields(JsonElement body, string[] allowed, Dictionary<string, string[]> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = [$"The body must be a JSON object, not {Describe(body.ValueKind)}."];
            return null;
        }

        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty property in body.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                errors[property.Name] = [$"{property.Name} is not a field here; the fields are {string.Join(", ", allowed)}."];
            }
            else if (!values.TryAdd(property.Name, property.Value))
            {
                errors[property.Name] = [$"{property.Name} is given more than once."];
            }
        }

        return values;
    }

    /// <summary>Reads a wire enum name such as <c>"CRITICAL"</c>; anything else is an error naming the field.</summary>
    public static T? Enum<T>(IReadOnlyDictionary<string, JsonElement> values, string field, IReadOnlyDictionary<string, T> names, Dictionary<string, string[]> errors)
        where T : struct
    {
        string expected = $"{field} must be one of {string.Join(", ", names.Keys)}";
        if (!values.TryGetValue(field, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            errors[field] = [$"{expected}; it is missing."];
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[field] = [$"{expected}, as a string, not {Describe(value.ValueKind)}."];
            return null;
        }

        if (!names.TryGetValue(value.GetString()!, out T parsed))
        {
            errors[field] = [$"{expected}, not \"{value.GetString()}\"."];
            return null;
        }

        return parsed;
    }

    /// <summary>Turns the service's <see cref="ArgumentException"/> into the request's terms: its field in snake_case, the sentence without .NET's parameter suffix.</summary>
    public static (string Field, string Message) Describe(ArgumentException exception)
    {
        string name = exception.ParamName ?? "event";
        string field = JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
        string message = exception.Message;
        int suffix = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        message = suffix >= 0 ? message[..suffix] : message;
        return (field, message.StartsWith(name, StringComparison.Ordinal) ? field + message[name.Length..] : message);
    }

    private static string? Text(Dictionary<string, JsonElement> values, string field, bool required, Dictionary<string, string[]> errors)
    {
        if (!values.TryGetValue(field, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors[field] = [$"{field} is required."];
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[field] = [$"{field} must be a string, not {Describe(value.ValueKind)}."];
            return null;
        }

        return value.GetString();
    }

    /// <summary>JSON to the plain values the service accepts as meta; a repeated key is an error, numbers stay exact.</summary>
    private static object? Plain(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    if (!map.TryAdd(property.Name, Plain(property.Value, $"{path}[\"{property.Name}\"]")))
                    {
                        throw new FormatException($"{path} has the key \"{property.Name}\" more than once.");
                    }
                }

                return map;
            case JsonValueKind.Array:
                return element.EnumerateArray().Select((item, i) => Plain(item, $"{path}[{i}]")).ToList();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return element.TryGetInt64(out long integer) ? integer
                    : element.TryGetUInt64(out ulong large) ? large
                    : element.TryGetDecimal(out decimal exact) && IsInteger(element) ? exact
                    : element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static bool IsInteger(JsonElement number) => number.GetRawText().AsSpan().IndexOfAny(".eE") < 0;

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
