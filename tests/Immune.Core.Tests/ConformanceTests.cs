using System.Text.Json;

namespace Immune.Tests;

/// <summary>
/// One contract, every reader: each document of the conformance corpus (tests/conformance) gets the verdict its folder
/// gives it from the C# reader and from the JSON Schema files (JsonSchema.Net, formats asserted); CI runs the same
/// corpus through ajv (tests/conformance/check.mjs), so the three agree on every document.
/// </summary>
public sealed class ConformanceTests
{
    private static string Corpus => Path.Combine(AppContext.BaseDirectory, "Conformance");

    public static TheoryData<string> Valid() => Documents("valid");

    public static TheoryData<string> Invalid() => Documents("invalid");

    private static TheoryData<string> Documents(string folder)
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(Path.Combine(Corpus, folder), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Fact]
    public void Corpus_HoldsBothKinds()
    {
        Valid().Count.ShouldBeGreaterThanOrEqualTo(15);
        Invalid().Count.ShouldBeGreaterThanOrEqualTo(40);
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void ValidDocument_ReaderReadsItAndTheSchemaAcceptsIt(string name)
    {
        byte[] json = File.ReadAllBytes(Path.Combine(Corpus, "valid", name + ".json"));

        EventEnvelope envelope = ImmuneJson.DeserializeEnvelope(json);
        JsonSchemaTests.Evaluate(System.Text.Encoding.UTF8.GetString(json)).IsValid.ShouldBeTrue(name);
        string written = ImmuneJson.Serialize(envelope);
        ImmuneJson.Serialize(ImmuneJson.DeserializeEnvelope(written)).ShouldBe(written); // what it writes reads back the same
        JsonSchemaTests.Evaluate(written).IsValid.ShouldBeTrue(name);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidDocument_ReaderRejectsItAndSoDoesTheSchema(string name)
    {
        byte[] json = File.ReadAllBytes(Path.Combine(Corpus, "invalid", name + ".json"));

        Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(json), name);
        JsonSchemaTests.Evaluate(System.Text.Encoding.UTF8.GetString(json)).IsValid.ShouldBeFalse(name);
    }
}
