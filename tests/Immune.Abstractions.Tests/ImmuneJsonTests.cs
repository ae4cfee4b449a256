using System.Text;
using System.Text.Json;

namespace Immune.Tests;

public sealed class ImmuneJsonTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_703_001_234_567);
    private const string Correlation = "4bf92f3577b34da6a3ce929d0e0e4736";

    private const string PublishedJson =
        """{"id":"evt_immune_1703001234567_00000000000000ff","type":"immune.event_published","source":"immune_service","target":null,"timestamp":1703001234.567,"payload":{"event_id":42,"severity":"WARNING","type":"ERROR_SPIKE","message":"5xx rate 12%","agent_id":"agent-7","module":"api","meta":{"rate":0.12,"window":"5m","codes":[500,503],"nested":{"ok":false,"none":null}},"published_at":1703001234.567},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""";

    private const string CriticalJson =
        """{"id":"evt_immune_1703001234567_0000000000000100","type":"immune.critical_event","source":"immune_service","target":null,"timestamp":1703001234.567,"payload":{"event_id":43,"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reuse","critical_at":1703001234.567},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""";

    private const string ChangedJson =
        """{"id":"evt_immune_1703001234567_0000000000000101","type":"immune.severity_changed","source":"immune_service","target":null,"timestamp":1703001234.567,"payload":{"event_id":43,"severity":"INFO","type":"SELF_HEALING_ACTION","message":"restarted","module":"worker","previous_severity":"CRITICAL","changed_at":1703001234.567},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""";

    private const string RepeatedJson =
        """{"id":"evt_immune_1703001244567_0000000000000102","type":"immune.event_repeated","source":"immune_service","target":null,"timestamp":1703001244.567,"payload":{"event_id":43,"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reuse","agent_id":"agent-7","occurrences":100000,"first_seen_at":1703001234.567,"last_seen_at":1703001243.999},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""";

    private static EventEnvelope Published() => new(
        "evt_immune_1703001234567_00000000000000ff",
        ImmuneEventTypes.EventPublished,
        "immune_service",
        null,
        At,
        new ImmuneEventPublishedPayload(42, ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "5xx rate 12%", At)
        {
            AgentId = "agent-7",
            Module = "api",
            Meta = new Dictionary<string, object?>
            {
                ["rate"] = 0.12,
                ["window"] = "5m",
                ["codes"] = new[] { 500, 503 },
                ["nested"] = new Dictionary<string, object?> { ["ok"] = false, ["none"] = null },
            },
        },
        new EventMeta(Correlation));

    private static EventEnvelope Critical() => new(
        "evt_immune_1703001234567_0000000000000100",
        ImmuneEventTypes.CriticalEvent,
        "immune_service",
        null,
        At,
        new ImmuneCriticalEventPayload(43, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "token reuse", At),
        new EventMeta(Correlation));

    private static EventEnvelope Changed() => new(
        "evt_immune_1703001234567_0000000000000101",
        ImmuneEventTypes.SeverityChanged,
        "immune_service",
        null,
        At,
        new ImmuneSeverityChangedPayload(43, ImmuneSeverity.Info, ImmuneEventType.SelfHealingAction, "restarted", ImmuneSeverity.Critical, At) { Module = "worker" },
        new EventMeta(Correlation));

    private static EventEnvelope Repeated() => new(
        "evt_immune_1703001244567_0000000000000102",
        ImmuneEventTypes.EventRepeated,
        "immune_service",
        null,
        At.AddSeconds(10),
        new ImmuneEventRepeatedPayload(43, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "token reuse", 100_000, At, At.AddMilliseconds(9_432)) { AgentId = "agent-7" },
        new EventMeta(Correlation));

    public static TheoryData<string, string> Goldens() => new()
    {
        { nameof(Published), PublishedJson },
        { nameof(Critical), CriticalJson },
        { nameof(Changed), ChangedJson },
        { nameof(Repeated), RepeatedJson },
    };

    private static EventEnvelope Make(string name) => name switch
    {
        nameof(Published) => Published(),
        nameof(Critical) => Critical(),
        nameof(Changed) => Changed(),
        _ => Repeated(),
    };

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Serialize_Envelope_WritesTheGoldenDocument(string name, string golden)
    {
        ImmuneJson.Serialize(Make(name)).ShouldBe(golden);
        Encoding.UTF8.GetString(ImmuneJson.SerializeToUtf8Bytes(Make(name))).ShouldBe(golden);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void DeserializeEnvelope_GoldenDocument_ReadsEveryFieldAndWritesItBackUnchanged(string name, string golden)
    {
        EventEnvelope expected = Make(name);

        EventEnvelope read = ImmuneJson.DeserializeEnvelope(Encoding.UTF8.GetBytes(golden));

        (read.Id, read.Type, read.Source, read.Target, read.Timestamp, read.Meta).ShouldBe((expected.Id, expected.Type, expected.Source, expected.Target, expected.Timestamp, expected.Meta));
        read.Payload.GetType().ShouldBe(expected.Payload.GetType());
        (read.Payload with { Meta = null }).ShouldBe(expected.Payload with { Meta = null });
        ImmuneJson.Serialize(read).ShouldBe(golden);
        ImmuneJson.DeserializeEnvelope(golden).ShouldBe(read with { Payload = read.Payload }, new EnvelopeComparer());
    }

    [Fact]
    public void DeserializeEnvelope_Meta_ComesBackAsPlainValuesNeverJsonElement()
    {
        IReadOnlyDictionary<string, object?> meta = ImmuneJson.DeserializeEnvelope(PublishedJson).Payload.Meta.ShouldNotBeNull();

        meta["rate"].ShouldBeOfType<double>().ShouldBe(0.12);
        meta["window"].ShouldBe("5m");
        meta["codes"].ShouldBeAssignableTo<IReadOnlyList<object?>>().ShouldBe([500L, 503L]);
        var nested = meta["nested"].ShouldBeAssignableTo<IReadOnlyDictionary<string, object?>>();
        nested!["ok"].ShouldBe(false);
        nested!["none"].ShouldBeNull();
        nested!.ContainsKey("none").ShouldBeTrue();
    }

    [Fact]
    public void DeserializeEnvelope_DocumentFromAnotherProducer_Parses()
    {
        const string python = """
            {
              "meta": {"version": "1.0", "correlation_id": "corr-1", "producer": "python"},
              "payload": {
                "published_at": "2023-12-19T15:53:54.567+00:00",
                "message": "disk full",
                "type": "ERROR_SPIKE",
                "severity": "CRITICAL",
                "event_id": 7,
                "agent_id": null,
                "meta": {"big": 12345678901234, "ratio": 1e-3, "tags": ["a", {"b": true}]},
                "extra": {"ignored": [1, 2, 3]}
              },
              "type": "immune.event_published",
              "timestamp": 1703001234.5675,
              "id": "evt_immune_1703001234567_abc",
              "source": "immune_service",
              "target": "dashboard",
              "future_field": 1
            }
            """;

        EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(python);

        envelope.Target.ShouldBe("dashboard");
        envelope.Timestamp.ShouldBe(DateTimeOffset.FromUnixTimeMilliseconds(1_703_001_234_568)); // nearest millisecond
        envelope.Meta.ShouldBe(new EventMeta("corr-1"));
        var payload = envelope.Payload.ShouldBeOfType<ImmuneEventPublishedPayload>();
        (payload.EventId, payload.Severity, payload.Type, payload.Message, payload.AgentId).ShouldBe((7L, ImmuneSeverity.Critical, ImmuneEventType.ErrorSpike, "disk full", (string?)null));
        payload.PublishedAt.ShouldBe(At);
        payload.Meta!["big"].ShouldBe(12345678901234L);
        payload.Meta!["ratio"].ShouldBe(0.001);
    }

    [Theory]
    [InlineData(1703001234, 1_703_001_234_000)]
    [InlineData(1703001234.0004, 1_703_001_234_000)]
    [InlineData(1703001234.0005, 1_703_001_234_001)]
    [InlineData(-1.5, -1_500)]
    public void DeserializeEnvelope_UnixSeconds_RoundToTheNearestMillisecond(double seconds, long expectedMilliseconds)
    {
        string json = PublishedJson.Replace("\"timestamp\":1703001234.567", $"\"timestamp\":{seconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");

        ImmuneJson.DeserializeEnvelope(json).Timestamp.ShouldBe(DateTimeOffset.FromUnixTimeMilliseconds(expectedMilliseconds));
    }

    [Theory]
    [InlineData(0, "0.000")]
    [InlineData(1_500, "1.500")]
    [InlineData(-1_500, "-1.500")]
    [InlineData(1_703_001_234_007, "1703001234.007")]
    public void Serialize_Timestamp_IsUnixSecondsWithThreeDecimals(long milliseconds, string expected)
    {
        EventEnvelope envelope = Critical() with { Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) };

        using JsonDocument document = JsonDocument.Parse(ImmuneJson.Serialize(envelope));

        document.RootElement.GetProperty("timestamp").GetRawText().ShouldBe(expected);
    }

    [Fact]
    public void Serialize_MetaValueJsonCannotCarry_ThrowsJsonException()
    {
        EventEnvelope nan = Published() with { Payload = Published().Payload with { Meta = new Dictionary<string, object?> { ["x"] = double.NaN } } };
        EventEnvelope odd = Published() with { Payload = Published().Payload with { Meta = new Dictionary<string, object?> { ["x"] = new object() } } };

        Should.Throw<JsonException>(() => ImmuneJson.Serialize(nan));
        Should.Throw<JsonException>(() => ImmuneJson.Serialize(odd)).Message.ShouldContain("System.Object");
    }

    public static TheoryData<string, string> InvalidDocuments() => new()
    {
        { "{", "" },
        { "not json", "" },
        { "null", "the document is the JSON literal null" },
        { "[]", "the document must be a JSON object, not an array" },
        { PublishedJson + "x", "" },
        { PublishedJson.Replace("\"id\":\"evt_immune_1703001234567_00000000000000ff\",", ""), "required property 'id' is missing" },
        { PublishedJson.Replace("\"type\":\"immune.event_published\",", ""), "required property 'type' is missing" },
        { PublishedJson.Replace("\"source\":\"immune_service\",", ""), "required property 'source' is missing" },
        { PublishedJson.Replace("\"timestamp\":1703001234.567,", ""), "required property 'timestamp' is missing" },
        { PublishedJson.Replace("immune.event_published", "immune.unknown"), "'type' must be one of \"immune.event_published\", \"immune.critical_event\", \"immune.severity_changed\", \"immune.event_repeated\", not \"immune.unknown\"" },
        { PublishedJson.Replace("\"WARNING\"", "\"SEVERE\""), "'payload.severity' must be one of \"INFO\", \"WARNING\", \"CRITICAL\", not \"SEVERE\"" },
        { PublishedJson.Replace("\"WARNING\"", "\"warning\""), "'payload.severity' must be one of" },
        { PublishedJson.Replace("\"ERROR_SPIKE\"", "\"OUTAGE\""), "'payload.type' must be one of" },
        { PublishedJson.Replace("\"ERROR_SPIKE\"", "3"), "'payload.type' must be a string, not a number" },
        { PublishedJson.Replace("\"message\":\"5xx rate 12%\",", ""), "required property 'payload.message' is missing" },
        { PublishedJson.Replace("\"event_id\":42", "\"event_id\":\"42\""), "'payload.event_id' must be a whole number from 1, not a string" },
        { PublishedJson.Replace(",\"published_at\":1703001234.567", ""), "required property 'payload.published_at' is missing" },
        { CriticalJson.Replace(",\"critical_at\":1703001234.567", ""), "required property 'payload.critical_at' is missing" },
        { ChangedJson.Replace("\"previous_severity\":\"CRITICAL\",", ""), "required property 'payload.previous_severity' is missing" },
        { ChangedJson.Replace("\"immune.severity_changed\"", "\"immune.event_published\""), "required property 'payload.published_at' is missing" },
        { PublishedJson.Replace("\"correlation_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",", ""), "required property 'meta.correlation_id' is missing" },
        { PublishedJson.Replace("\"version\":\"1.0\"", "\"version\":\"2.0\""), "'meta.version' is \"2.0\"; this reader understands Charter 1.x" },
        { PublishedJson.Replace("\"timestamp\":1703001234.567", "\"timestamp\":\"yesterday\""), "'timestamp' must be Unix seconds or an RFC 3339 date and time with its offset" },
        { PublishedJson.Replace("\"timestamp\":1703001234.567", "\"timestamp\":1e300"), "'timestamp' is a number out of the range" },
        { PublishedJson.Replace("\"timestamp\":1703001234.567", "\"timestamp\":true"), "'timestamp' must be a number of Unix seconds, not a boolean" },
        { PublishedJson.Replace("\"meta\":{\"rate\"", "\"meta\":[{\"rate\"").Replace("\"none\":null}}", "\"none\":null}}]"), "'payload.meta' must be an object, not an array" },
        { """{"id":"i","type":"immune.event_published","source":"s","timestamp":1,"payload":[],"meta":{"correlation_id":"c","version":"1.0"}}""", "'payload' must be an object, not an array" },
        { """{"id":"i","type":"immune.event_published","source":"s","timestamp":1,"meta":{"correlation_id":"c","version":"1.0"}}""", "required property 'payload' is missing" },
        { """{"id":"i","type":"immune.event_published","source":"s","timestamp":1,"payload":{}}""", "required property 'meta' is missing" },
        { """{"id":7,"type":"immune.event_published"}""", "'id' must be a string, not a number" },
    };

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public void DeserializeEnvelope_InvalidDocument_ThrowsJsonExceptionSayingWhatIsWrong(string json, string expectedMessage)
    {
        JsonException fromString = Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(json));
        JsonException fromBytes = Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(Encoding.UTF8.GetBytes(json)));

        fromString.Message.ShouldContain(expectedMessage);
        fromBytes.Message.ShouldBe(fromString.Message);
    }

    [Fact]
    public async Task Options_WorkWithJsonSerializerStreamingInSmallBuffers()
    {
        var options = new JsonSerializerOptions(ImmuneJson.Options) { DefaultBufferSize = 1 };
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(PublishedJson.Replace("\"target\":null,", "\"target\":null,\"unknown\":{\"deep\":[1,2,{\"x\":3}]},")));

        EventEnvelope? envelope = await JsonSerializer.DeserializeAsync<EventEnvelope>(stream, options);

        ImmuneJson.Serialize(envelope!).ShouldBe(PublishedJson);
        ImmuneJson.Options.IsReadOnly.ShouldBeTrue();
        JsonSerializer.Serialize(Published(), ImmuneJson.Options).ShouldBe(PublishedJson);
    }

    [Fact]
    public void Methods_NullArguments_Throw()
    {
        Should.Throw<ArgumentNullException>(() => ImmuneJson.Serialize(null!));
        Should.Throw<ArgumentNullException>(() => ImmuneJson.SerializeToUtf8Bytes(null!));
        Should.Throw<ArgumentNullException>(() => ImmuneJson.DeserializeEnvelope((string)null!));
    }

    [Fact]
    public void InstanceId_IsWrittenAsMetaInstanceIdAndReadBack_AndItsAbsenceIsAccepted()
    {
        EventEnvelope withInstance = Critical() with { Meta = new EventMeta(Correlation) { InstanceId = "0123456789abcdef" } };

        string json = ImmuneJson.Serialize(withInstance);

        json.ShouldEndWith("""
            "meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0","instance_id":"0123456789abcdef"}}
            """);
        ImmuneJson.DeserializeEnvelope(json).Meta.InstanceId.ShouldBe("0123456789abcdef");
        ImmuneJson.DeserializeEnvelope(CriticalJson).Meta.InstanceId.ShouldBeNull(); // another producer's envelope
        ImmuneJson.Serialize(Critical()).ShouldBe(CriticalJson); // nothing written when there is none
        Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(json.Replace("\"instance_id\":\"0123456789abcdef\"", "\"instance_id\":7")))
            .Message.ShouldContain("'meta.instance_id' must be a string");
    }

    [Fact]
    public void InstanceId_TravelsAsTheCloudEventsExtensionInstanceid()
    {
        EventEnvelope withInstance = Critical() with { Meta = new EventMeta(Correlation) { InstanceId = "0123456789abcdef" } };

        string cloudEvent = ImmuneCloudEvents.Serialize(withInstance);

        using (JsonDocument document = JsonDocument.Parse(cloudEvent))
        {
            document.RootElement.GetProperty("instanceid").GetString().ShouldBe("0123456789abcdef");
        }

        ImmuneCloudEvents.Deserialize(cloudEvent).Meta.InstanceId.ShouldBe("0123456789abcdef");
        ImmuneCloudEvents.Deserialize(ImmuneCloudEvents.Serialize(Critical())).Meta.InstanceId.ShouldBeNull();
    }

    /// <summary>Compares envelopes field by field, and meta through its JSON form (dictionaries compare by reference).</summary>
    private sealed class EnvelopeComparer : IEqualityComparer<EventEnvelope>
    {
        public bool Equals(EventEnvelope? x, EventEnvelope? y) => ImmuneJson.Serialize(x!) == ImmuneJson.Serialize(y!);

        public int GetHashCode(EventEnvelope obj) => 0;
    }
}
