using System.Text.Json.Serialization;

namespace Immune.Serialization;

/// <summary>
/// Source-generated metadata for the wire format. The envelope itself is read and written by
/// <see cref="EventEnvelopeJsonConverter"/>: its payload type depends on a sibling property (<c>type</c>) that may come
/// after <c>payload</c> in documents written by other producers, which attribute-based polymorphism cannot express.
/// </summary>
[JsonSourceGenerationOptions(Converters = [typeof(EventEnvelopeJsonConverter)])]
[JsonSerializable(typeof(EventEnvelope))]
internal sealed partial class ImmuneJsonContext : JsonSerializerContext;
