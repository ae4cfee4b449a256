using System.Text.Json;
using System.Text.Json.Serialization;

namespace Immune.Serialization;

/// <summary>Reads and writes <see cref="EventEnvelope"/> in the wire format of EVENTS.md.</summary>
/// <remarks>
/// Reading accepts the envelope's properties in any order (the payload is parsed once <c>type</c> is known), ignores
/// unknown properties for forward compatibility, and rejects anything else that is not a valid envelope with a
/// <see cref="JsonException"/> naming the property at fault.
/// </remarks>
internal sealed class EventEnvelopeJsonConverter : JsonConverter<EventEnvelope>
{
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText SourceName = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText TargetName = JsonEncodedText.Encode("target");
    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText PayloadName = JsonEncodedText.Encode("payload");
    private static readonly JsonEncodedText MetaName = JsonEncodedText.Encode("meta");
    private static readonly JsonEncodedText EventIdName = JsonEncodedText.Encode("event_id");
    private static readonly JsonEncodedText SeverityName = JsonEncodedText.Encode("severity");
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText AgentIdName = JsonEncodedText.Encode("agent_id");
    private static readonly JsonEncodedText ModuleName = JsonEncodedText.Encode("module");
    private static readonly JsonEncodedText PublishedAtName = JsonEncodedText.Encode("published_at");
    private static readonly JsonEncodedText CriticalAtName = JsonEncodedText.Encode("critical_at");
    private static readonly JsonEncodedText PreviousSeverityName = JsonEncodedText.Encode("previous_severity");
    private static readonly JsonEncodedText ChangedAtName = JsonEncodedText.Encode("changed_at");
    private static readonly JsonEncodedText OccurrencesName = JsonEncodedText.Encode("occurrences");
    private static readonly JsonEncodedText FirstSeenAtName = JsonEncodedText.Encode("first_seen_at");
    private static readonly JsonEncodedText LastSeenAtName = JsonEncodedText.Encode("last_seen_at");
    private static readonly JsonEncodedText CorrelationIdName = JsonEncodedText.Encode("correlation_id");
    private static readonly JsonEncodedText VersionName = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText InstanceIdName = JsonEncodedText.Encode("instance_id");

    public override void Write(Utf8JsonWriter writer, EventEnvelope value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(IdName, value.Id);
        writer.WriteString(TypeName, value.Type);
        writer.WriteString(SourceName, value.Source);
        writer.WriteString(TargetName, value.Target); // null is written as null: a broadcast
        writer.WritePropertyName(TimestampName);
        WireFormat.WriteUnixSeconds(writer, value.Timestamp);
        writer.WritePropertyName(PayloadName);
        WritePayload(writer, value.Payload ?? throw new JsonException("The envelope has no payload."));
        writer.WriteStartObject(MetaName);
        EventMeta meta = value.Meta ?? throw new JsonException("The envelope has no meta.");
        writer.WriteString(CorrelationIdName, meta.CorrelationId);
        writer.WriteString(VersionName, meta.Version);
        if (meta.InstanceId is not null)
        {
            writer.WriteString(InstanceIdName, meta.InstanceId);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Writes a payload object (the envelope's <c>payload</c>, or a CloudEvent's <c>data</c>).</summary>
    internal static void WritePayload(Utf8JsonWriter writer, ImmunePayload payload)
    {
        writer.WriteStartObject();
        writer.WriteNumber(EventIdName, payload.EventId);
        writer.WriteString(SeverityName, WireFormat.Encode(payload.Severity));
        writer.WriteString(TypeName, WireFormat.Encode(payload.Type));
        writer.WriteString(MessageName, payload.Message);
        if (payload.AgentId is not null)
        {
            writer.WriteString(AgentIdName, payload.AgentId);
        }

        if (payload.Module is not null)
        {
            writer.WriteString(ModuleName, payload.Module);
        }

        if (payload.Meta is not null)
        {
            writer.WritePropertyName(MetaName);
            MetaJson.WriteObject(writer, payload.Meta);
        }

        switch (payload)
        {
            case ImmuneEventPublishedPayload published:
                writer.WritePropertyName(PublishedAtName);
                WireFormat.WriteUnixSeconds(writer, published.PublishedAt);
                break;
            case ImmuneCriticalEventPayload critical:
                writer.WritePropertyName(CriticalAtName);
                WireFormat.WriteUnixSeconds(writer, critical.CriticalAt);
                break;
            case ImmuneSeverityChangedPayload changed:
                writer.WriteString(PreviousSeverityName, WireFormat.Encode(changed.PreviousSeverity));
                writer.WritePropertyName(ChangedAtName);
                WireFormat.WriteUnixSeconds(writer, changed.ChangedAt);
                break;
            case ImmuneEventRepeatedPayload repeated:
                writer.WriteNumber(OccurrencesName, repeated.Occurrences);
                writer.WritePropertyName(FirstSeenAtName);
                WireFormat.WriteUnixSeconds(writer, repeated.FirstSeenAt);
                writer.WritePropertyName(LastSeenAtName);
                WireFormat.WriteUnixSeconds(writer, repeated.LastSeenAt);
                break;
            default:
                throw new JsonException($"Payload type {payload.GetType()} has no wire format.");
        }

        writer.WriteEndObject();
    }

    public override EventEnvelope Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Invalid envelope: the document must be a JSON object, not {WireFormat.Describe(reader.TokenType)}.");
        }

        string? id = null, type = null, source = null, target = null;
        DateTimeOffset? timestamp = null;
        EventMeta? meta = null;
        Utf8JsonReader payloadReader = default;
        bool hasPayload = false;

        int seen = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals(IdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 1, "id"); reader.Read(); id = ReadNonEmptyString(ref reader, "id"); }
            else if (reader.ValueTextEquals(TypeName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 2, "type"); reader.Read(); type = ReadRequiredString(ref reader, "type"); }
            else if (reader.ValueTextEquals(SourceName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 4, "source"); reader.Read(); source = ReadNonEmptyString(ref reader, "source"); }
            else if (reader.ValueTextEquals(TargetName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 8, "target"); reader.Read(); target = ReadOptionalString(ref reader, "target"); }
            else if (reader.ValueTextEquals(TimestampName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 16, "timestamp"); reader.Read(); timestamp = WireFormat.ReadTimestamp(ref reader, "timestamp"); }
            else if (reader.ValueTextEquals(MetaName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 32, "meta"); reader.Read(); meta = ReadMeta(ref reader); }
            else if (reader.ValueTextEquals(PayloadName.EncodedUtf8Bytes))
            {
                WireFormat.Once(ref seen, 64, "payload");
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw WireFormat.Invalid("payload", $"must be an object, not {WireFormat.Describe(reader.TokenType)}");
                }

                // The payload's shape depends on "type", which may come later: remember where it starts and parse it once the envelope is read.
                payloadReader = reader;
                hasPayload = true;
                SkipValue(ref reader);
            }
            else
            {
                reader.Read();
                SkipValue(ref reader);
            }
        }

        if (id is null) throw WireFormat.Missing("id");
        if (type is null) throw WireFormat.Missing("type");
        if (source is null) throw WireFormat.Missing("source");
        if (timestamp is null) throw WireFormat.Missing("timestamp");
        if (!hasPayload) throw WireFormat.Missing("payload");
        if (meta is null) throw WireFormat.Missing("meta");

        if (Array.IndexOf(WireFormat.EnvelopeTypes, type) < 0)
        {
            throw UnknownType(type);
        }

        ImmunePayload payload = ReadPayload(ref payloadReader, type, PayloadPaths.Envelope);
        return new EventEnvelope(id, type, source, target, timestamp.Value, payload, meta);
    }

    /// <summary>Reads a payload object whose shape <paramref name="envelopeType"/> selects; the reader is on its StartObject.</summary>
    internal static ImmunePayload ReadPayload(ref Utf8JsonReader reader, string envelopeType, PayloadPaths paths)
    {
        long? eventId = null;
        ImmuneSeverity? severity = null, previousSeverity = null;
        ImmuneEventType? eventType = null;
        string? message = null, agentId = null, module = null;
        IReadOnlyDictionary<string, object?>? meta = null;
        DateTimeOffset? publishedAt = null, criticalAt = null, changedAt = null, firstSeenAt = null, lastSeenAt = null;
        long? occurrences = null;

        int seen = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals(EventIdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 1, paths.EventId); reader.Read(); eventId = WireFormat.ReadWholeNumber(ref reader, paths.EventId); }
            else if (reader.ValueTextEquals(SeverityName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 2, paths.Severity); reader.Read(); severity = WireFormat.ReadSeverity(ref reader, paths.Severity); }
            else if (reader.ValueTextEquals(TypeName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 4, paths.Type); reader.Read(); eventType = WireFormat.ReadEventType(ref reader, paths.Type); }
            else if (reader.ValueTextEquals(MessageName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 8, paths.Message); reader.Read(); message = ReadNonEmptyString(ref reader, paths.Message); }
            else if (reader.ValueTextEquals(AgentIdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 16, paths.AgentId); reader.Read(); agentId = ReadOptionalString(ref reader, paths.AgentId); }
            else if (reader.ValueTextEquals(ModuleName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 32, paths.Module); reader.Read(); module = ReadOptionalString(ref reader, paths.Module); }
            else if (reader.ValueTextEquals(MetaName.EncodedUtf8Bytes))
            {
                WireFormat.Once(ref seen, 64, paths.Meta);
                reader.Read();
                meta = reader.TokenType == JsonTokenType.Null ? null : MetaJson.ReadObject(ref reader, paths.Meta);
            }
            else if (reader.ValueTextEquals(PublishedAtName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 128, paths.PublishedAt); reader.Read(); publishedAt = WireFormat.ReadTimestamp(ref reader, paths.PublishedAt); }
            else if (reader.ValueTextEquals(CriticalAtName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 256, paths.CriticalAt); reader.Read(); criticalAt = WireFormat.ReadTimestamp(ref reader, paths.CriticalAt); }
            else if (reader.ValueTextEquals(ChangedAtName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 512, paths.ChangedAt); reader.Read(); changedAt = WireFormat.ReadTimestamp(ref reader, paths.ChangedAt); }
            else if (reader.ValueTextEquals(PreviousSeverityName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 1024, paths.PreviousSeverity); reader.Read(); previousSeverity = WireFormat.ReadSeverity(ref reader, paths.PreviousSeverity); }
            else if (reader.ValueTextEquals(OccurrencesName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 2048, paths.Occurrences); reader.Read(); occurrences = WireFormat.ReadWholeNumber(ref reader, paths.Occurrences); }
            else if (reader.ValueTextEquals(FirstSeenAtName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 4096, paths.FirstSeenAt); reader.Read(); firstSeenAt = WireFormat.ReadTimestamp(ref reader, paths.FirstSeenAt); }
            else if (reader.ValueTextEquals(LastSeenAtName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 8192, paths.LastSeenAt); reader.Read(); lastSeenAt = WireFormat.ReadTimestamp(ref reader, paths.LastSeenAt); }
            else
            {
                reader.Read();
                SkipValue(ref reader);
            }
        }

        if (eventId is null) throw WireFormat.Missing(paths.EventId);
        if (severity is null) throw WireFormat.Missing(paths.Severity);
        if (eventType is null) throw WireFormat.Missing(paths.Type);
        if (message is null) throw WireFormat.Missing(paths.Message);
        if (envelopeType == ImmuneEventTypes.CriticalEvent && severity != ImmuneSeverity.Critical)
        {
            throw WireFormat.Invalid(paths.Severity, $"must be \"CRITICAL\" in an immune.critical_event, not \"{WireFormat.Encode(severity.Value)}\"");
        }

        return envelopeType switch
        {
            ImmuneEventTypes.EventPublished => new ImmuneEventPublishedPayload(
                eventId.Value, severity.Value, eventType.Value, message, publishedAt ?? throw WireFormat.Missing(paths.PublishedAt))
            {
                AgentId = agentId, Module = module, Meta = meta,
            },
            ImmuneEventTypes.CriticalEvent => new ImmuneCriticalEventPayload(
                eventId.Value, severity.Value, eventType.Value, message, criticalAt ?? throw WireFormat.Missing(paths.CriticalAt))
            {
                AgentId = agentId, Module = module, Meta = meta,
            },
            ImmuneEventTypes.SeverityChanged => new ImmuneSeverityChangedPayload(
                eventId.Value,
                severity.Value,
                eventType.Value,
                message,
                previousSeverity ?? throw WireFormat.Missing(paths.PreviousSeverity),
                changedAt ?? throw WireFormat.Missing(paths.ChangedAt))
            {
                AgentId = agentId, Module = module, Meta = meta,
            },
            ImmuneEventTypes.EventRepeated => new ImmuneEventRepeatedPayload(
                eventId.Value,
                severity.Value,
                eventType.Value,
                message,
                occurrences ?? throw WireFormat.Missing(paths.Occurrences),
                firstSeenAt ?? throw WireFormat.Missing(paths.FirstSeenAt),
                lastSeenAt ?? throw WireFormat.Missing(paths.LastSeenAt))
            {
                AgentId = agentId, Module = module, Meta = meta,
            },
            _ => throw UnknownType(envelopeType),
        };
    }

    internal static JsonException UnknownType(string type)
        => WireFormat.Invalid("type", $"must be one of {string.Join(", ", WireFormat.EnvelopeTypes.Select(t => $"\"{t}\""))}, not \"{type}\"");

    private static EventMeta ReadMeta(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw WireFormat.Invalid("meta", $"must be an object, not {WireFormat.Describe(reader.TokenType)}");
        }

        string? correlationId = null, version = null, instanceId = null;
        int seen = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals(CorrelationIdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 1, "meta.correlation_id"); reader.Read(); correlationId = ReadRequiredString(ref reader, "meta.correlation_id"); }
            else if (reader.ValueTextEquals(VersionName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 2, "meta.version"); reader.Read(); version = ReadRequiredString(ref reader, "meta.version"); }
            else if (reader.ValueTextEquals(InstanceIdName.EncodedUtf8Bytes)) { WireFormat.Once(ref seen, 4, "meta.instance_id"); reader.Read(); instanceId = ReadOptionalString(ref reader, "meta.instance_id"); }
            else
            {
                reader.Read();
                SkipValue(ref reader);
            }
        }

        if (correlationId is null) throw WireFormat.Missing("meta.correlation_id");
        if (version is null) throw WireFormat.Missing("meta.version");
        if (version != "1" && !version.StartsWith("1.", StringComparison.Ordinal))
        {
            throw WireFormat.Invalid("meta.version", $"is \"{version}\"; this reader understands Charter 1.x");
        }

        return new EventMeta(correlationId) { Version = version, InstanceId = instanceId };
    }

    internal static void SkipValue(ref Utf8JsonReader reader)
    {
        // TrySkip rather than Skip: it reports a value cut short instead of throwing InvalidOperationException on partial input.
        if (!reader.TrySkip())
        {
            throw new JsonException("Invalid envelope: the document ends inside a value.");
        }
    }

    internal static string ReadRequiredString(ref Utf8JsonReader reader, string path)
    {
        WireFormat.ExpectString(ref reader, path);
        return reader.GetString()!;
    }

    /// <summary>Reads a string that must not be empty: an id, a source, a message.</summary>
    internal static string ReadNonEmptyString(ref Utf8JsonReader reader, string path)
    {
        string value = ReadRequiredString(ref reader, path);
        return value.Length > 0 ? value : throw WireFormat.Invalid(path, "must not be empty");
    }

    internal static string? ReadOptionalString(ref Utf8JsonReader reader, string path)
        => reader.TokenType == JsonTokenType.Null ? null : ReadRequiredString(ref reader, path);
}
