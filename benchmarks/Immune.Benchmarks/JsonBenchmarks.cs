using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace Immune.Benchmarks;

/// <summary>The wire format of a typical envelope, both ways.</summary>
[MemoryDiagnoser]
public class JsonBenchmarks
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_703_001_234_567);

    private readonly EventEnvelope _envelope = new(
        "evt_immune_1703001234567_9f86d081884c7d65",
        ImmuneEventTypes.EventPublished,
        "immune_service",
        null,
        At,
        new ImmuneEventPublishedPayload(42, ImmuneSeverity.Warning, ImmuneEventType.ErrorSpike, "5xx rate above 2%", At)
        {
            AgentId = "agent-7",
            Module = "api",
            Meta = new Dictionary<string, object?> { ["rate"] = 0.034, ["window"] = "5m", ["codes"] = new object?[] { 500L, 503L } },
        },
        new EventMeta("4bf92f3577b34da6a3ce929d0e0e4736"));

    private byte[] _utf8 = null!;

    [GlobalSetup]
    public void Setup() => _utf8 = ImmuneJson.SerializeToUtf8Bytes(_envelope);

    [Benchmark(Description = "ImmuneJson.SerializeToUtf8Bytes")]
    public byte[] Serialize() => ImmuneJson.SerializeToUtf8Bytes(_envelope);

    [Benchmark(Description = "ImmuneJson.DeserializeEnvelope(utf8)")]
    public EventEnvelope Deserialize() => ImmuneJson.DeserializeEnvelope(_utf8);

    [Benchmark(Baseline = true, Description = "baseline: JsonDocument.Parse(utf8)")]
    public int ParseDocument()
    {
        using JsonDocument document = JsonDocument.Parse(_utf8);
        return document.RootElement.GetPropertyCount();
    }
}
