using System.Collections;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text.Json;

namespace Immune.Serialization;

/// <summary>Reads and writes meta as plain values: string, long or double, bool, null, nested dictionaries and lists.</summary>
internal static class MetaJson
{
    public static IReadOnlyDictionary<string, object?> ReadObject(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw WireFormat.Invalid(path, $"must be an object, not {WireFormat.Describe(reader.TokenType)}");
        }

        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (!values.TryAdd(name, ReadValue(ref reader, path, name)))
            {
                throw WireFormat.Invalid(path + "." + name, "appears more than once");
            }
        }

        return new ReadOnlyDictionary<string, object?>(values);
    }

    private static object? ReadValue(ref Utf8JsonReader reader, string parentPath, string name)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out long integer))
                {
                    return integer;
                }

                double real = reader.GetDouble();
                return double.IsFinite(real) ? real : throw WireFormat.Invalid(parentPath + "." + name, "is a number out of the range of double");
            case JsonTokenType.StartObject:
                return ReadObject(ref reader, parentPath + "." + name);
            case JsonTokenType.StartArray:
                var items = new List<object?>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, parentPath + "." + name, items.Count.ToString(CultureInfo.InvariantCulture)));
                }

                return new ReadOnlyCollection<object?>(items);
            default:
                throw WireFormat.Invalid(parentPath + "." + name, $"holds an unexpected {reader.TokenType}");
        }
    }

    public static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> values)
    {
        writer.WriteStartObject();
        foreach (KeyValuePair<string, object?> pair in values)
        {
            writer.WritePropertyName(pair.Key);
            WriteValue(writer, pair.Value);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case short s16: writer.WriteNumberValue(s16); break;
            case byte u8: writer.WriteNumberValue(u8); break;
            case sbyte s8: writer.WriteNumberValue(s8); break;
            case ushort u16: writer.WriteNumberValue(u16); break;
            case uint u32: writer.WriteNumberValue(u32); break;
            case ulong u64: writer.WriteNumberValue(u64); break;
            case Guid g: writer.WriteStringValue(g); break;
            case DateTimeOffset dto: writer.WriteStringValue(dto); break;
            case DateTime dt: writer.WriteStringValue(dt); break;
            case IReadOnlyDictionary<string, object?> or IDictionary<string, object?>: WriteObject(writer, (IEnumerable<KeyValuePair<string, object?>>)value); break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(entry.Key as string ?? throw new JsonException($"Meta dictionary keys must be strings, not {entry.Key.GetType()}."));
                    WriteValue(writer, entry.Value);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (object? item in list)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new JsonException($"Meta holds a value of type {value.GetType()} that JSON cannot carry.");
        }
    }
}
