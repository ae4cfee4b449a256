using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Immune.Serialization;

namespace Immune;

/// <summary>
/// Maps an <see cref="EventEnvelope"/> to a CloudEvents 1.0 event in structured-mode JSON and back, for buses and
/// tools of the CloudEvents ecosystem. The mapping table is in EVENTS.md.
/// </summary>
/// <remarks>
/// <c>id</c>, <c>source</c> (a URI-reference), <c>type</c> and <c>time</c> (RFC 3339, milliseconds) carry the envelope's
/// fields; <c>subject</c> carries <see cref="EventEnvelope.Target"/> when there is one; <c>data</c> is the payload object of
/// the wire format with <c>datacontenttype</c> <c>application/json</c>; the extensions <c>correlationid</c>,
/// <c>immuneversion</c> and <c>instanceid</c> carry <see cref="EventEnvelope.Meta"/>. Trimming- and NativeAOT-safe.
/// </remarks>
public static class ImmuneCloudEvents
{
    /// <summary>The CloudEvents version written and accepted: <c>"1.0"</c>.</summary>
    public const string SpecVersion = "1.0";

    /// <summary>The media type of a structured-mode CloudEvents JSON document.</summary>
    public const string MediaType = "application/cloudevents+json";

    private static readonly JsonEncodedText SpecVersionName = JsonEncodedText.Encode("specversion");
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText SourceName = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText TimeName = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText DataContentTypeName = JsonEncodedText.Encode("datacontenttype");
    private static readonly JsonEncodedText SubjectName = JsonEncodedText.Encode("subject");
    private static readonly JsonEncodedText CorrelationIdName = JsonEncodedText.Encode("correlationid");
    private static readonly JsonEncodedText ImmuneVersionName = JsonEncodedText.Encode("immuneversion");
    private static readonly JsonEncodedText InstanceIdName = JsonEncodedText.Encode("instanceid");
    private static readonly JsonEncodedText DataName = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText DataBase64Name = JsonEncodedText.Encode("data_base64");

    /// <summary>Writes an envelope as a structured-mode CloudEvents JSON document.</summary>
    /// <param name="envelope">The envelope. Must not be null.</param>
    /// <returns>The UTF-8 JSON document (media type <see cref="MediaType"/>).</returns>
    /// <exception cref="JsonException">The envelope holds a value JSON cannot carry.</exception>
    public static byte[] SerializeToUtf8Bytes(EventEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(SpecVersionName, SpecVersion);
            writer.WriteString(IdName, envelope.Id);
            writer.WriteString(SourceName, envelope.Source);
            writer.WriteString(TypeName, envelope.Type);
            writer.WriteString(TimeName, envelope.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            writer.WriteString(DataContentTypeName, "application/json");
            if (envelope.Target is not null)
            {
                writer.WriteString(SubjectName, envelope.Target);
            }

            writer.WriteString(CorrelationIdName, envelope.Meta.CorrelationId);
            writer.WriteString(ImmuneVersionName, envelope.Meta.Version);
            if (envelope.Meta.InstanceId is not null)
            {
                writer.WriteString(InstanceIdName, envelope.Meta.InstanceId);
            }

            writer.WritePropertyName(DataName);
            EventEnvelopeJsonConverter.WritePayload(writer, envelope.Payload);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes an envelope as a structured-mode CloudEvents JSON string.</summary>
    /// <param name="envelope">The envelope. Must not be null.</param>
    /// <returns>The JSON document.</returns>
    /// <exception cref="JsonException">The envelope holds a value JSON cannot carry.</exception>
    public static string Serialize(EventEnvelope envelope) => Encoding.UTF8.GetString(SerializeToUtf8Bytes(envelope));

    /// <summary>Reads a structured-mode CloudEvents JSON document written by this mapping or by another CloudEvents producer.</summary>
    /// <param name="json">The JSON document. Must not be null.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="JsonException">The document is not a CloudEvent this mapping can read; the message says what is wrong.</exception>
    public static EventEnvelope Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Deserialize(WireFormat.ToUtf8(json, "CloudEvent"));
    }

    /// <summary>Reads a structured-mode CloudEvents JSON document written by this mapping or by another CloudEvents producer.</summary>
    /// <param name="utf8Json">The UTF-8 JSON document.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="JsonException">The document is not a CloudEvent this mapping can read; the message says what is wrong. No other exception is thrown for any input.</exception>
    public static EventEnvelope Deserialize(ReadOnlySpan<byte> utf8Json) => WireFormat.Read(utf8Json, "CloudEvent", ReadDocument);

    private static EventEnvelope ReadDocument(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        reader.Read();
        EventEnvelope envelope = Read(ref reader);
        if (reader.Read())
        {
            throw new JsonException("Invalid CloudEvent: there is content after the event object.");
        }

        return envelope;
    }

    private static EventEnvelope Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Invalid CloudEvent: the document must be a JSON object, not {WireFormat.Describe(reader.TokenType)}.");
        }

        string? specVersion = null, id = null, source = null, type = null, subject = null, correlationId = null, version = null, contentType = null, instanceId = null;
        DateTimeOffset? time = null;
        Utf8JsonReader data = default;
        bool hasData = false;
        int seen = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals(SpecVersionName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 1, "specversion"); reader.Read(); specVersion = EventEnvelopeJsonConverter.ReadRequiredString(ref reader, "specversion"); }
            else if (reader.ValueTextEquals(IdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 2, "id"); reader.Read(); id = EventEnvelopeJsonConverter.ReadNonEmptyString(ref reader, "id"); }
            else if (reader.ValueTextEquals(SourceName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 4, "source"); reader.Read(); source = EventEnvelopeJsonConverter.ReadNonEmptyString(ref reader, "source"); }
            else if (reader.ValueTextEquals(TypeName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 8, "type"); reader.Read(); type = EventEnvelopeJsonConverter.ReadRequiredString(ref reader, "type"); }
            else if (reader.ValueTextEquals(SubjectName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 16, "subject"); reader.Read(); subject = EventEnvelopeJsonConverter.ReadOptionalString(ref reader, "subject"); }
            else if (reader.ValueTextEquals(CorrelationIdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 32, "correlationid"); reader.Read(); correlationId = EventEnvelopeJsonConverter.ReadRequiredString(ref reader, "correlationid"); }
            else if (reader.ValueTextEquals(ImmuneVersionName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 64, "immuneversion"); reader.Read(); version = EventEnvelopeJsonConverter.ReadRequiredString(ref reader, "immuneversion"); }
            else if (reader.ValueTextEquals(InstanceIdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 2048, "instanceid"); reader.Read(); instanceId = EventEnvelopeJsonConverter.ReadOptionalString(ref reader, "instanceid"); }
            else if (reader.ValueTextEquals(DataContentTypeName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 128, "datacontenttype"); reader.Read(); contentType = EventEnvelopeJsonConverter.ReadOptionalString(ref reader, "datacontenttype"); }
            else if (reader.ValueTextEquals(TimeName.EncodedUtf8Bytes))
            {
                WireFormat.Once(ref seen, 256, "time");
                reader.Read();
                WireFormat.ExpectString(ref reader, "time");
                time = WireFormat.TryReadRfc3339(ref reader, out DateTimeOffset parsed) ? parsed : throw Invalid("time", $"must be an RFC 3339 timestamp, not \"{reader.GetString()}\"");
            }
            else if (reader.ValueTextEquals(DataBase64Name.EncodedUtf8Bytes))
            {
                WireFormat.Once(ref seen, 512, "data_base64");
                throw Invalid("data_base64", "is not supported: the payload must be JSON in 'data'");
            }
            else if (reader.ValueTextEquals(DataName.EncodedUtf8Bytes))
            {
                WireFormat.Once(ref seen, 1024, "data");
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Invalid("data", $"must be an object, not {WireFormat.Describe(reader.TokenType)}");
                }

                data = reader; // parsed once "type" is known: it may come later
                hasData = true;
                EventEnvelopeJsonConverter.SkipValue(ref reader);
            }
            else
            {
                reader.Read();
                EventEnvelopeJsonConverter.SkipValue(ref reader);
            }
        }

        if (specVersion is null) throw Missing("specversion");
        if (specVersion != SpecVersion) throw Invalid("specversion", $"is \"{specVersion}\"; only \"1.0\" is supported");
        if (id is null) throw Missing("id");
        if (source is null) throw Missing("source");
        if (type is null) throw Missing("type");
        if (time is null) throw Missing("time");
        if (correlationId is null) throw Missing("correlationid");
        if (!hasData) throw Missing("data");
        if (contentType is not null && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid("datacontenttype", $"is \"{contentType}\"; the data must be application/json");
        }

        if (Array.IndexOf(WireFormat.EnvelopeTypes, type) < 0)
        {
            throw EventEnvelopeJsonConverter.UnknownType(type);
        }

        ImmunePayload payload = EventEnvelopeJsonConverter.ReadPayload(ref data, type, PayloadPaths.CloudEvent);
        return new EventEnvelope(id, type, source, subject, time.Value, payload, new EventMeta(correlationId) { Version = version ?? EventMeta.CurrentVersion, InstanceId = instanceId });
    }

    private static JsonException Invalid(string attribute, string problem) => new($"Invalid CloudEvent: '{attribute}' {problem}.");

    private static JsonException Missing(string attribute) => new($"Invalid CloudEvent: required attribute '{attribute}' is missing.");
}
