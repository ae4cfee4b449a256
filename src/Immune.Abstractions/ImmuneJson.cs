using System.Text.Json;
using Immune.Serialization;

namespace Immune;

/// <summary>
/// The JSON wire format of <see cref="EventEnvelope"/>: snake_case names, upper-case enum strings, times as Unix seconds
/// with millisecond fractions, optional payload fields omitted and <c>target</c> written as <c>null</c> when absent.
/// See EVENTS.md for the schema.
/// </summary>
/// <remarks>Trimming- and NativeAOT-safe: no reflection is used to read or write envelopes.</remarks>
public static class ImmuneJson
{
    /// <summary>
    /// Gets read-only options for <see cref="JsonSerializer"/> that read and write <see cref="EventEnvelope"/> in the wire
    /// format, for hosts that serialize envelopes inside their own documents (for example ASP.NET Core responses).
    /// </summary>
    public static JsonSerializerOptions Options => ImmuneJsonContext.Default.Options;

    /// <summary>Serializes an envelope to a JSON string.</summary>
    /// <param name="envelope">The envelope. Must not be null.</param>
    /// <returns>The JSON document.</returns>
    /// <exception cref="JsonException">The envelope holds a value JSON cannot carry (for example a non-finite number in its meta).</exception>
    public static string Serialize(EventEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return JsonSerializer.Serialize(envelope, ImmuneJsonContext.Default.EventEnvelope);
    }

    /// <summary>Serializes an envelope to UTF-8 JSON bytes, without an intermediate string.</summary>
    /// <param name="envelope">The envelope. Must not be null.</param>
    /// <returns>The UTF-8 JSON document.</returns>
    /// <exception cref="JsonException">The envelope holds a value JSON cannot carry.</exception>
    public static byte[] SerializeToUtf8Bytes(EventEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return JsonSerializer.SerializeToUtf8Bytes(envelope, ImmuneJsonContext.Default.EventEnvelope);
    }

    /// <summary>Reads an envelope from UTF-8 JSON; the envelope <c>type</c> selects the payload type.</summary>
    /// <param name="utf8Json">The UTF-8 JSON document.</param>
    /// <returns>The envelope, with meta as plain values (string, long or double, bool, null, nested read-only dictionaries and lists).</returns>
    /// <exception cref="JsonException">The document is not a valid envelope; the message says what is wrong. No other exception is thrown for any input.</exception>
    public static EventEnvelope DeserializeEnvelope(ReadOnlySpan<byte> utf8Json)
        => WireFormat.Read(utf8Json, "envelope", static json => JsonSerializer.Deserialize(json, ImmuneJsonContext.Default.EventEnvelope) ?? throw NullDocument());

    /// <summary>Reads an envelope from a JSON string; the envelope <c>type</c> selects the payload type.</summary>
    /// <param name="json">The JSON document. Must not be null.</param>
    /// <returns>The envelope, with meta as plain values.</returns>
    /// <exception cref="JsonException">The document is not a valid envelope (including text that is not valid UTF-16); the message says what is wrong.</exception>
    public static EventEnvelope DeserializeEnvelope(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return DeserializeEnvelope(WireFormat.ToUtf8(json, "envelope"));
    }

    private static JsonException NullDocument() => new("Invalid envelope: the document is the JSON literal null, not an object.");
}
