using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Immune.Tests.TestDoubles;
using Json.Schema;

namespace Immune.Tests;

/// <summary>
/// The published JSON Schema files (src/Immune.Abstractions/Schemas) against the documents they describe: the examples
/// of EVENTS.md and real envelopes of every type from a running service; and they reject what readers reject.
/// </summary>
public sealed partial class JsonSchemaTests
{
    private static readonly Lazy<(JsonSchema Envelope, EvaluationOptions Options)> Schemas = new(() =>
    {
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
        JsonSchema? envelope = null;
        foreach (string file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Schemas"), "*.schema.json"))
        {
            JsonSchema schema = JsonSchema.FromFile(file);
            options.SchemaRegistry.Register(schema);
            if (file.EndsWith("envelope.schema.json", StringComparison.Ordinal)) envelope = schema;
        }

        return (envelope ?? throw new InvalidOperationException("envelope.schema.json is missing"), options);
    });

    [GeneratedRegex("```json\\n(?<doc>.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    internal static EvaluationResults Evaluate(string json) => Schemas.Value.Envelope.Evaluate(JsonNode.Parse(json), Schemas.Value.Options);

    private static void ShouldBeValid(string json)
    {
        EvaluationResults results = Evaluate(json);
        results.IsValid.ShouldBeTrue(json + Environment.NewLine + string.Join(Environment.NewLine, (results.Details ?? []).Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void EnvelopeSchema_EveryExampleInEventsMd_IsValid()
    {
        string events = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "EVENTS.md"));
        string[] examples = JsonBlock().Matches(events).Select(m => m.Groups["doc"].Value).Where(d => d.Contains("\"payload\"", StringComparison.Ordinal)).ToArray();

        examples.Length.ShouldBeGreaterThanOrEqualTo(3);
        foreach (string example in examples)
        {
            ShouldBeValid(example);
        }
    }

    [Fact]
    public async Task EnvelopeSchema_RealEnvelopesOfEveryTypeFromTheService_AreValid()
    {
        var stream = new InMemoryEventStream();
        await using (var service = new ImmuneService(stream, new ImmuneOptions { FoldWindow = TimeSpan.FromMinutes(1) }))
        {
            await service.PublishAsync(Events.Info());
            await service.PublishAsync(Events.Info()); // folded: disposal reports it as immune.event_repeated
            await service.PublishAsync(Events.Critical() with
            {
                AgentId = "gw-1",
                Module = "auth",
                Meta = new Dictionary<string, object?> { ["n"] = 1, ["x"] = 1.5, ["s"] = "v", ["b"] = true, ["none"] = null, ["list"] = new object?[] { 1, "a", new Dictionary<string, object?>() }, ["at"] = DateTimeOffset.UnixEpoch, ["id"] = Guid.Empty },
            });
            long id = await service.PublishAsync(Events.Warning());
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Critical);
            await service.ChangeSeverityAsync(id, ImmuneSeverity.Info);
            await service.FlushAsync();
        }

        stream.Envelopes.Select(e => e.Type).Distinct().Count().ShouldBe(4);
        foreach (EventEnvelope envelope in stream.Envelopes)
        {
            ShouldBeValid(ImmuneJson.Serialize(envelope));
        }
    }

    public static TheoryData<string, string> Invalid() => new()
    {
        { "severity", "\"severity\":\"CRITICAL\"|\"severity\":\"SEVERE\"" },
        { "type", "\"type\":\"POLICY_VIOLATION\"|\"type\":3" },
        { "envelope type", "\"immune.critical_event\"|\"immune.unknown\"" },
        { "missing critical_at", ",\"critical_at\":1703001234.567|" },
        { "event_id", "\"event_id\":43|\"event_id\":\"43\"" },
        { "version", "\"version\":\"1.0\"|\"version\":\"2.0\"" },
        { "timestamp", "\"timestamp\":1703001234.567|\"timestamp\":true" },
        { "missing meta", ",\"meta\":{\"correlation_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"version\":\"1.0\"}|" },
        { "repeat without occurrences", "\"immune.critical_event\"|\"immune.event_repeated\"" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void EnvelopeSchema_WhatReadersReject_IsInvalid(string what, string edit)
    {
        const string Valid = """{"id":"evt_immune_1703001234567_0000000000000100","type":"immune.critical_event","source":"immune_service","target":null,"timestamp":1703001234.567,"payload":{"event_id":43,"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reuse","critical_at":1703001234.567},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""";
        string[] parts = edit.Split('|');
        string json = Valid.Replace(parts[0], parts[1], StringComparison.Ordinal);
        json.ShouldNotBe(Valid, what);
        ShouldBeValid(Valid);

        Evaluate(json).IsValid.ShouldBeFalse(what);
        Should.Throw<System.Text.Json.JsonException>(() => ImmuneJson.DeserializeEnvelope(json), what); // schema and reader agree
    }
}
