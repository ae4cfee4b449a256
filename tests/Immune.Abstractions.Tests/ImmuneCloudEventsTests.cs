using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;

namespace Immune.Tests;

public sealed class ImmuneCloudEventsTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_703_001_234_567);
    private static readonly CloudEventAttribute CorrelationId = CloudEventAttribute.CreateExtension("correlationid", CloudEventAttributeType.String);
    private static readonly CloudEventAttribute ImmuneVersion = CloudEventAttribute.CreateExtension("immuneversion", CloudEventAttributeType.String);
    private static readonly JsonEventFormatter Formatter = new();

    private static EventEnvelope Envelope(string? target = null) => new(
        "evt_immune_1703001234567_00000000000000ff",
        ImmuneEventTypes.CriticalEvent,
        "immune_service",
        target,
        At,
        new ImmuneCriticalEventPayload(42, ImmuneSeverity.Critical, ImmuneEventType.PolicyViolation, "token reused", At)
        {
            AgentId = "gw-1",
            Meta = new Dictionary<string, object?> { ["countries"] = new[] { "DE", "BR" } },
        },
        new EventMeta("4bf92f3577b34da6a3ce929d0e0e4736"));

    [Fact]
    public void Serialize_WritesTheMappedAttributes()
    {
        using JsonDocument document = JsonDocument.Parse(ImmuneCloudEvents.Serialize(Envelope(target: "pager")));
        JsonElement root = document.RootElement;

        root.GetProperty("specversion").GetString().ShouldBe("1.0");
        root.GetProperty("id").GetString().ShouldBe("evt_immune_1703001234567_00000000000000ff");
        root.GetProperty("source").GetString().ShouldBe("immune_service");
        root.GetProperty("type").GetString().ShouldBe("immune.critical_event");
        root.GetProperty("time").GetString().ShouldBe("2023-12-19T15:53:54.567Z");
        root.GetProperty("datacontenttype").GetString().ShouldBe("application/json");
        root.GetProperty("subject").GetString().ShouldBe("pager");
        root.GetProperty("correlationid").GetString().ShouldBe("4bf92f3577b34da6a3ce929d0e0e4736");
        root.GetProperty("immuneversion").GetString().ShouldBe("1.0");
        root.GetProperty("data").GetProperty("event_id").GetInt64().ShouldBe(42);
        root.GetProperty("data").GetProperty("critical_at").GetRawText().ShouldBe("1703001234.567");
        JsonDocument.Parse(ImmuneCloudEvents.Serialize(Envelope())).RootElement.TryGetProperty("subject", out _).ShouldBeFalse();
    }

    [Fact]
    public void CloudEventsSdk_ParsesWhatWeWrite()
    {
        byte[] written = ImmuneCloudEvents.SerializeToUtf8Bytes(Envelope(target: "pager"));

        CloudEvent cloudEvent = Formatter.DecodeStructuredModeMessage(written, new ContentType(ImmuneCloudEvents.MediaType), [CorrelationId, ImmuneVersion]);

        cloudEvent.Id.ShouldBe("evt_immune_1703001234567_00000000000000ff");
        cloudEvent.Source.ShouldBe(new Uri("immune_service", UriKind.RelativeOrAbsolute));
        cloudEvent.Type.ShouldBe(ImmuneEventTypes.CriticalEvent);
        cloudEvent.Time.ShouldBe(At);
        cloudEvent.Subject.ShouldBe("pager");
        cloudEvent.DataContentType.ShouldBe("application/json");
        cloudEvent[CorrelationId].ShouldBe("4bf92f3577b34da6a3ce929d0e0e4736");
        cloudEvent[ImmuneVersion].ShouldBe("1.0");
        var data = (JsonElement)cloudEvent.Data!;
        data.GetProperty("message").GetString().ShouldBe("token reused");
        cloudEvent.IsValid.ShouldBeTrue();
    }

    [Fact]
    public void CloudEventsSdk_WritesWhatWeParse()
    {
        EventEnvelope original = Envelope(target: "pager");
        using JsonDocument payload = JsonDocument.Parse(ImmuneJson.Serialize(original));
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0, [CorrelationId, ImmuneVersion])
        {
            Id = original.Id,
            Source = new Uri(original.Source, UriKind.RelativeOrAbsolute),
            Type = original.Type,
            Time = original.Timestamp,
            Subject = original.Target,
            DataContentType = "application/json",
            Data = payload.RootElement.GetProperty("payload").Clone(),
            [CorrelationId] = original.Meta.CorrelationId,
            [ImmuneVersion] = original.Meta.Version,
        };

        ReadOnlyMemory<byte> encoded = Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
        EventEnvelope read = ImmuneCloudEvents.Deserialize(encoded.Span);

        ImmuneJson.Serialize(read).ShouldBe(ImmuneJson.Serialize(original));
    }

    [Fact]
    public void Deserialize_OurOwnDocument_RoundTrips()
    {
        EventEnvelope original = Envelope();

        EventEnvelope read = ImmuneCloudEvents.Deserialize(ImmuneCloudEvents.Serialize(original));

        ImmuneJson.Serialize(read).ShouldBe(ImmuneJson.Serialize(original));
        read.Target.ShouldBeNull();
    }

    [Theory]
    [InlineData("""{"specversion":"0.3","id":"i","source":"s","type":"immune.critical_event","time":"2023-12-19T15:53:54.567Z","correlationid":"c","data":{}}""", "'specversion' is \"0.3\"")]
    [InlineData("""{"id":"i","source":"s","type":"immune.critical_event","time":"2023-12-19T15:53:54.567Z","correlationid":"c","data":{}}""", "required attribute 'specversion' is missing")]
    [InlineData("""{"specversion":"1.0","id":"i","source":"s","type":"other.type","time":"2023-12-19T15:53:54.567Z","correlationid":"c","data":{}}""", "'type' must be one of")]
    [InlineData("""{"specversion":"1.0","id":"i","source":"s","type":"immune.critical_event","time":"noon","correlationid":"c","data":{}}""", "'time' must be an RFC 3339 timestamp")]
    [InlineData("""{"specversion":"1.0","id":"i","source":"s","type":"immune.critical_event","time":"2023-12-19T15:53:54.567Z","data":{}}""", "required attribute 'correlationid' is missing")]
    [InlineData("""{"specversion":"1.0","id":"i","source":"s","type":"immune.critical_event","time":"2023-12-19T15:53:54.567Z","correlationid":"c","data_base64":"AA=="}""", "'data_base64' is not supported")]
    [InlineData("""{"specversion":"1.0","id":"i","source":"s","type":"immune.critical_event","time":"2023-12-19T15:53:54.567Z","correlationid":"c","datacontenttype":"text/plain","data":{}}""", "'datacontenttype' is \"text/plain\"")]
    [InlineData("""{"specversion":"1.0","id":"i","source":"s","type":"immune.critical_event","time":"2023-12-19T15:53:54.567Z","correlationid":"c","data":{"event_id":1}}""", "required property 'data.severity' is missing")]
    [InlineData("""[1]""", "must be a JSON object")]
    [InlineData("""{"specversion":""", "")]
    public void Deserialize_Invalid_ThrowsJsonExceptionSayingWhatIsWrong(string json, string expected)
    {
        Should.Throw<JsonException>(() => ImmuneCloudEvents.Deserialize(json)).Message.ShouldContain(expected);
        Should.Throw<JsonException>(() => ImmuneCloudEvents.Deserialize(Encoding.UTF8.GetBytes(json)));
    }
}
