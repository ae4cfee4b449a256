using System.Buffers.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Immune.Serialization;

/// <summary>Wire spellings of the enums and of timestamps, shared by the envelope reader and writer.</summary>
internal static partial class WireFormat
{
    private const long MinUnixMilliseconds = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    private const long MaxUnixMilliseconds = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    private const decimal MinUnixSeconds = MinUnixMilliseconds / 1000m;
    private const decimal MaxUnixSeconds = MaxUnixMilliseconds / 1000m;
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The envelope types a reader understands, in catalog order; the one list readers and messages use.</summary>
    public static readonly string[] EnvelopeTypes = [ImmuneEventTypes.EventPublished, ImmuneEventTypes.CriticalEvent, ImmuneEventTypes.SeverityChanged, ImmuneEventTypes.EventRepeated];

    private static readonly JsonEncodedText Info = JsonEncodedText.Encode("INFO");
    private static readonly JsonEncodedText Warning = JsonEncodedText.Encode("WARNING");
    private static readonly JsonEncodedText Critical = JsonEncodedText.Encode("CRITICAL");
    private static readonly JsonEncodedText PolicyViolation = JsonEncodedText.Encode("POLICY_VIOLATION");
    private static readonly JsonEncodedText ErrorSpike = JsonEncodedText.Encode("ERROR_SPIKE");
    private static readonly JsonEncodedText SelfHealingAction = JsonEncodedText.Encode("SELF_HEALING_ACTION");

    public static JsonEncodedText Encode(ImmuneSeverity severity) => severity switch
    {
        ImmuneSeverity.Info => Info,
        ImmuneSeverity.Warning => Warning,
        ImmuneSeverity.Critical => Critical,
        _ => throw new JsonException($"Severity {(int)severity} is not a defined ImmuneSeverity and has no wire value."),
    };

    public static JsonEncodedText Encode(ImmuneEventType type) => type switch
    {
        ImmuneEventType.PolicyViolation => PolicyViolation,
        ImmuneEventType.ErrorSpike => ErrorSpike,
        ImmuneEventType.SelfHealingAction => SelfHealingAction,
        _ => throw new JsonException($"Event type {(int)type} is not a defined ImmuneEventType and has no wire value."),
    };

    public static ImmuneSeverity ReadSeverity(ref Utf8JsonReader reader, string path)
    {
        ExpectString(ref reader, path);
        if (reader.ValueTextEquals(Info.EncodedUtf8Bytes)) return ImmuneSeverity.Info;
        if (reader.ValueTextEquals(Warning.EncodedUtf8Bytes)) return ImmuneSeverity.Warning;
        if (reader.ValueTextEquals(Critical.EncodedUtf8Bytes)) return ImmuneSeverity.Critical;
        throw Invalid(path, $"must be one of \"INFO\", \"WARNING\", \"CRITICAL\", not \"{reader.GetString()}\"");
    }

    public static ImmuneEventType ReadEventType(ref Utf8JsonReader reader, string path)
    {
        ExpectString(ref reader, path);
        if (reader.ValueTextEquals(PolicyViolation.EncodedUtf8Bytes)) return ImmuneEventType.PolicyViolation;
        if (reader.ValueTextEquals(ErrorSpike.EncodedUtf8Bytes)) return ImmuneEventType.ErrorSpike;
        if (reader.ValueTextEquals(SelfHealingAction.EncodedUtf8Bytes)) return ImmuneEventType.SelfHealingAction;
        throw Invalid(path, $"must be one of \"POLICY_VIOLATION\", \"ERROR_SPIKE\", \"SELF_HEALING_ACTION\", not \"{reader.GetString()}\"");
    }

    /// <summary>Writes Unix seconds with exactly three decimals (<c>1703001234.567</c>) as a JSON number.</summary>
    public static void WriteUnixSeconds(Utf8JsonWriter writer, DateTimeOffset value)
    {
        long milliseconds = value.ToUnixTimeMilliseconds();
        Span<byte> buffer = stackalloc byte[32];
        int length = 0;
        if (milliseconds < 0)
        {
            buffer[length++] = (byte)'-';
        }

        ulong magnitude = (ulong)Math.Abs(milliseconds);
        Utf8Formatter.TryFormat(magnitude / 1000, buffer[length..], out int written);
        length += written;
        buffer[length++] = (byte)'.';
        Utf8Formatter.TryFormat(magnitude % 1000, buffer[length..], out written, new System.Buffers.StandardFormat('D', 3));
        length += written;
        writer.WriteRawValue(buffer[..length], skipInputValidation: true);
    }

    /// <summary>
    /// An RFC 3339 date-time with its offset: what the JSON Schema's <c>time</c> accepts as a string, in the very same
    /// pattern (payload.schema.json), so that a schema validator and this reader agree on every document.
    /// </summary>
    [GeneratedRegex(@"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,7})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])(?![\s\S])", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimeWithOffset();

    /// <summary>Parses an RFC 3339 date-time with its offset, and nothing looser (no missing offset, no date alone).</summary>
    public static bool TryReadRfc3339(ref Utf8JsonReader reader, out DateTimeOffset value)
    {
        value = default;
        return DateTimeWithOffset().IsMatch(reader.GetString()!) && reader.TryGetDateTimeOffset(out value);
    }

    /// <summary>Reads a whole number from 1 (an id, a count): <c>43</c>, or written with a fraction or exponent (<c>43.0</c>, <c>4.3e1</c>), as JSON Schema's <c>integer</c> takes it.</summary>
    public static long ReadWholeNumber(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw Invalid(path, $"must be a whole number from 1, not {Describe(reader.TokenType)}");
        }

        if (reader.TryGetInt64(out long value) ? value >= 1
            : reader.TryGetDecimal(out decimal exact) && exact == decimal.Truncate(exact) && exact >= 1 && exact <= long.MaxValue && (value = (long)exact) >= 1)
        {
            return value;
        }

        throw Invalid(path, "must be a whole number from 1 to 9,223,372,036,854,775,807");
    }

    /// <summary>Reads Unix seconds (any precision, rounded to the nearest millisecond) or an RFC 3339 string with its offset.</summary>
    public static DateTimeOffset ReadTimestamp(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            // Range-check the seconds before scaling them: 1e26 fits a decimal, 1e26 × 1000 does not.
            if (!reader.TryGetDecimal(out decimal seconds) || seconds < MinUnixSeconds || seconds > MaxUnixSeconds)
            {
                throw Invalid(path, "is a number out of the range of timestamps");
            }

            decimal milliseconds = Math.Round(seconds * 1000m, MidpointRounding.AwayFromZero);
            if (milliseconds < MinUnixMilliseconds || milliseconds > MaxUnixMilliseconds)
            {
                throw Invalid(path, "is a number out of the range of timestamps");
            }

            return DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            if (!TryReadRfc3339(ref reader, out DateTimeOffset parsed))
            {
                throw Invalid(path, $"must be Unix seconds or an RFC 3339 date and time with its offset (2023-12-19T15:53:54.567Z), not \"{reader.GetString()}\"");
            }

            long ticks = parsed.UtcTicks;
            long rounded = (ticks + (TimeSpan.TicksPerMillisecond / 2)) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond;
            return new DateTimeOffset(Math.Min(rounded, DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);
        }

        throw Invalid(path, $"must be a number of Unix seconds, not {Describe(reader.TokenType)}");
    }

    public static void ExpectString(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Invalid(path, $"must be a string, not {Describe(reader.TokenType)}");
        }
    }

    /// <summary>UTF-16 text to UTF-8 for a reader: invalid UTF-16 (a lone surrogate) is an invalid document, not a replacement character.</summary>
    public static byte[] ToUtf8(string json, string document)
    {
        try
        {
            return StrictUtf8.GetBytes(json);
        }
        catch (System.Text.EncoderFallbackException exception)
        {
            throw new JsonException($"Invalid {document}: the text is not valid UTF-16 ({exception.Message})", exception);
        }
    }

    /// <summary>
    /// Runs a reader so that it fails only with <see cref="JsonException"/>: whatever else the framework throws for a
    /// malformed document (invalid UTF-8 inside a string, a number that overflows) becomes one, with the cause inside.
    /// </summary>
    public static T Read<T>(ReadOnlySpan<byte> utf8Json, string document, ReadSpan<T> read)
    {
        try
        {
            return read(utf8Json);
        }
        catch (Exception exception) when (exception is not JsonException)
        {
            throw new JsonException($"Invalid {document}: {exception.Message}", exception);
        }
    }

    /// <summary>A reader over a span (spans cannot be captured by <see cref="Func{T, TResult}"/>).</summary>
    public delegate T ReadSpan<T>(ReadOnlySpan<byte> utf8Json);

    /// <summary>Rejects a property seen before in the same object: two values for one name are ambiguous, and readers disagree on which wins.</summary>
    public static void Once(ref int seen, int bit, string path)
    {
        if ((seen & bit) != 0)
        {
            throw Invalid(path, "appears more than once");
        }

        seen |= bit;
    }

    public static JsonException Invalid(string path, string problem) => new($"Invalid envelope: '{path}' {problem}.");

    public static JsonException Missing(string path) => new($"Invalid envelope: required property '{path}' is missing.");

    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
