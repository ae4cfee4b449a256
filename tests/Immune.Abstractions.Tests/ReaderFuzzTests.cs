using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Immune.Tests;

/// <summary>
/// "Any input" for every reader entry point: each document ends as a <see cref="JsonException"/> or as an envelope that
/// re-serializes stably. Fixed seeds, so a failure reproduces; the failing input is in the assertion message.
/// </summary>
public sealed class ReaderFuzzTests
{
    private const int Seed = 20261127;

    /// <summary>Golden documents of every envelope type, with meta that exercises every value kind.</summary>
    public static readonly string[] Goldens =
    [
        """{"id":"evt_immune_1703001234567_00000000000000ff","type":"immune.event_published","source":"immune_service","target":null,"timestamp":1703001234.567,"payload":{"event_id":42,"severity":"WARNING","type":"ERROR_SPIKE","message":"5xx rate 12%","agent_id":"agent-7","module":"api","meta":{"rate":0.12,"window":"5m","codes":[500,503],"nested":{"ok":false,"none":null}},"published_at":1703001234.567},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0","instance_id":"0123456789abcdef"}}""",
        """{"id":"evt_immune_1703001234567_0000000000000100","type":"immune.critical_event","source":"immune_service","target":"pager","timestamp":1703001234.567,"payload":{"event_id":43,"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reuse","critical_at":"2023-12-19T15:53:54.567Z"},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""",
        """{"id":"evt_immune_1703001234567_0000000000000101","type":"immune.severity_changed","source":"immune_service","target":null,"timestamp":1703001234.567,"payload":{"event_id":43,"severity":"INFO","type":"SELF_HEALING_ACTION","message":"restarted","module":"worker","previous_severity":"CRITICAL","changed_at":1703001234.567},"meta":{"correlation_id":"4bf92f3577b34da6a3ce929d0e0e4736","version":"1.0"}}""",
        """{"id":"evt_immune_1703001244567_0000000000000102","type":"immune.event_repeated","source":"immune_service","target":null,"timestamp":1703001244.567,"payload":{"event_id":43,"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reuse","agent_id":"agent-7","occurrences":100000,"first_seen_at":1703001234.567,"last_seen_at":1703001243.999},"meta":{"correlation_id":"0af7651916cd43dd8448eb211c80319c","version":"1.0","instance_id":"0123456789abcdef"}}""",
    ];

    /// <summary>The same documents as CloudEvents, as <see cref="ImmuneCloudEvents"/> writes them.</summary>
    public static IEnumerable<string> CloudGoldens => Goldens.Select(g => ImmuneCloudEvents.Serialize(ImmuneJson.DeserializeEnvelope(g)));

    private static readonly JsonNode?[] WrongKinds =
    [
        null, JsonValue.Create(true), JsonValue.Create(0), JsonValue.Create(-1), JsonValue.Create(1.5), JsonValue.Create(""),
        JsonValue.Create("x"), JsonValue.Create("\u0000\uFFFF"), new JsonArray(), new JsonArray(1, "a", null), new JsonObject(),
        new JsonObject { ["a"] = new JsonArray(new JsonObject()) },
        JsonNode.Parse("1e26"), JsonNode.Parse("-1e26"), JsonNode.Parse("1e308"), JsonNode.Parse("-1e308"), JsonNode.Parse("1e-400"),
        JsonNode.Parse("9223372036854775808"), JsonNode.Parse("-9223372036854775809"), JsonNode.Parse("79228162514264337593543950336"),
        JsonNode.Parse("123456789012345678901234567890e300"), JsonNode.Parse("-0"), JsonNode.Parse("0.0000000000000000000000001"),
        JsonValue.Create("9999-12-31T23:59:59.9999999+00:00"), JsonValue.Create("0001-01-01T00:00:00+14:00"),
    ];

    public static TheoryData<string, int> Documents()
    {
        var data = new TheoryData<string, int>();
        for (int i = 0; i < Goldens.Length; i++)
        {
            data.Add("envelope", i);
            data.Add("cloudevent", i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Readers_EveryTruncation_ThrowJsonExceptionOrReadStably(string format, int index)
    {
        byte[] golden = Golden(format, index);

        for (int length = 0; length < golden.Length; length++)
        {
            Check(format, golden.AsSpan(0, length).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Readers_SeededByteMutations_ThrowJsonExceptionOrReadStably(string format, int index)
    {
        byte[] golden = Golden(format, index);
        var random = new Random(Seed + index);
        byte[] interesting = "{}[]\":,\\0123456789-+.eE ntfu\u007f"u8.ToArray().Concat(new byte[] { 0x00, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF8, 0xFF }).ToArray();

        for (int round = 0; round < 3_000; round++)
        {
            var mutated = new List<byte>(golden);
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits && mutated.Count > 0; e++)
            {
                int at = random.Next(mutated.Count);
                byte value = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (byte)random.Next(256);
                switch (random.Next(4))
                {
                    case 0: mutated[at] = value; break;
                    case 1: mutated.Insert(at, value); break;
                    case 2: mutated.RemoveAt(at); break;
                    default:
                        int from = random.Next(mutated.Count);
                        mutated.InsertRange(at, mutated.GetRange(from, Math.Min(1 + random.Next(16), mutated.Count - from)));
                        break;
                }
            }

            Check(format, [.. mutated]);
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Readers_WrongKindMissingOrDuplicateAtEveryPath_ThrowJsonExceptionOrReadStably(string format, int index)
    {
        string golden = Encoding.UTF8.GetString(Golden(format, index));
        int checkedPaths = 0;

        foreach (string path in Paths(JsonNode.Parse(golden)!, ""))
        {
            foreach (JsonNode? kind in WrongKinds)
            {
                Check(format, Edit(golden, path, node => Replace(node, kind?.DeepClone())));
            }

            Check(format, Edit(golden, path, Remove));
            Check(format, Duplicate(golden, path));
            checkedPaths++;
        }

        checkedPaths.ShouldBeGreaterThan(10);
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Readers_DeepNestingAndHugeValues_ThrowJsonExceptionOrReadStably(string format, int index)
    {
        string golden = Encoding.UTF8.GetString(Golden(format, index));

        foreach (int depth in new[] { 10, 60, 61, 62, 63, 64, 65, 200, 10_000 })
        {
            string deep = new string('[', depth) + new string(']', depth);
            string deepObject = string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
            foreach (string path in Paths(JsonNode.Parse(golden)!, ""))
            {
                Check(format, EditRaw(golden, path, deep));
                Check(format, EditRaw(golden, path, deepObject));
            }
        }

        Check(format, Encoding.UTF8.GetBytes(golden.Replace("\"5xx rate 12%\"", "\"" + new string('x', 1 << 20) + "\"")));
    }

    [Fact]
    public void DeserializeEnvelope_InvalidUtf16_ThrowsJsonExceptionAtEveryPosition()
    {
        foreach (string golden in Goldens.Concat(CloudGoldens))
        {
            for (int at = 0; at <= golden.Length; at += 7)
            {
                foreach (string bad in new[] { "\uD800", "\uDC00", "\uDBFF\uDBFF" })
                {
                    string text = golden.Insert(at, bad);
                    CheckString(() => ImmuneJson.DeserializeEnvelope(text), text);
                    CheckString(() => ImmuneCloudEvents.Deserialize(text), text);
                }
            }
        }
    }

    [Fact]
    public void Readers_InvalidUtf8InsideEveryString_ThrowJsonException()
    {
        byte[][] sequences = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]];
        foreach (string format in new[] { "envelope", "cloudevent" })
        {
            for (int index = 0; index < Goldens.Length; index++)
            {
                byte[] golden = Golden(format, index);
                for (int at = 1; at < golden.Length; at++)
                {
                    if (golden[at - 1] != (byte)'"')
                    {
                        continue; // just inside an opening or closing quote: every string and every name
                    }

                    foreach (byte[] sequence in sequences)
                    {
                        Check(format, [.. golden[..at], .. sequence, .. golden[at..]]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Readers_WhatTheyRejectIsAlwaysAJsonException_ProvenBySomeRejections()
    {
        // Guards the fuzz tests themselves: a reader that accepted everything would pass them.
        Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(Goldens[0][..^1]));
        Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(Goldens[0].Replace("1703001234.567,\"payload\"", "1e26,\"payload\"")));
        Should.Throw<JsonException>(() => ImmuneCloudEvents.Deserialize(CloudGoldens.ElementAt(1).Replace("\"critical_at\":1703001234.567", "\"critical_at\":1e26")));
        Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(Goldens[0].Insert(10, "\uD800")));
        Should.Throw<JsonException>(() => ImmuneJson.DeserializeEnvelope(Goldens[0].Replace("\"source\":\"immune_service\"", "\"source\":\"a\",\"source\":\"b\"")))
            .Message.ShouldContain("'source' appears more than once");
    }

    private static byte[] Golden(string format, int index)
        => Encoding.UTF8.GetBytes(format == "envelope" ? Goldens[index] : CloudGoldens.ElementAt(index));

    /// <summary>One document through the reader: a JsonException, or an envelope whose JSON reads back to the same JSON.</summary>
    private static void Check(string format, byte[] document)
    {
        EventEnvelope envelope;
        try
        {
            envelope = format == "envelope" ? ImmuneJson.DeserializeEnvelope(document) : ImmuneCloudEvents.Deserialize(document);
        }
        catch (JsonException)
        {
            return;
        }
        catch (Exception exception)
        {
            throw new ShouldAssertException($"{format} reader threw {exception.GetType().Name} ({exception.Message}) for: {Show(document)}", exception);
        }

        Stable(format, envelope, Show(document));
    }

    private static void CheckString(Func<EventEnvelope> read, string text)
    {
        try
        {
            read();
        }
        catch (JsonException)
        {
            return;
        }
        catch (Exception exception)
        {
            throw new ShouldAssertException($"reader threw {exception.GetType().Name} ({exception.Message}) for: {text}", exception);
        }

        throw new ShouldAssertException($"reader accepted invalid UTF-16: {text}");
    }

    private static void Stable(string format, EventEnvelope envelope, string input)
    {
        try
        {
            if (format == "envelope")
            {
                string first = ImmuneJson.Serialize(envelope);
                ImmuneJson.Serialize(ImmuneJson.DeserializeEnvelope(first)).ShouldBe(first, input);
            }
            else
            {
                string first = ImmuneCloudEvents.Serialize(envelope);
                ImmuneCloudEvents.Serialize(ImmuneCloudEvents.Deserialize(first)).ShouldBe(first, input);
            }
        }
        catch (Exception exception) when (exception is not ShouldAssertException)
        {
            throw new ShouldAssertException($"an accepted document did not re-serialize: {exception.GetType().Name} ({exception.Message}) for: {input}", exception);
        }
    }

    private static string Show(byte[] document) => document.Length > 400 ? Convert.ToHexString(document, 0, 400) + "…" : Convert.ToHexString(document) + " = " + Encoding.UTF8.GetString(document);

    /// <summary>Every property and array element, as a path of names and indexes separated by '/'.</summary>
    private static IEnumerable<string> Paths(JsonNode node, string prefix)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (KeyValuePair<string, JsonNode?> pair in obj.ToList())
                {
                    string path = prefix + "/" + pair.Key;
                    yield return path;
                    if (pair.Value is not null)
                    {
                        foreach (string inner in Paths(pair.Value, path)) yield return inner;
                    }
                }

                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    string path = prefix + "/" + i;
                    yield return path;
                    if (array[i] is not null)
                    {
                        foreach (string inner in Paths(array[i]!, path)) yield return inner;
                    }
                }

                break;
        }
    }

    private static byte[] Edit(string json, string path, Action<(JsonNode Parent, string Key)> edit)
    {
        JsonNode root = JsonNode.Parse(json)!;
        edit(Locate(root, path));
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>Puts raw text (possibly too deep for JsonNode) at a path, through a placeholder.</summary>
    private static byte[] EditRaw(string json, string path, string raw)
    {
        const string Placeholder = "\"@@raw@@\"";
        JsonNode root = JsonNode.Parse(json)!;
        Replace(Locate(root, path), JsonValue.Create("@@raw@@"));
        return Encoding.UTF8.GetBytes(root.ToJsonString().Replace(Placeholder, raw, StringComparison.Ordinal));
    }

    /// <summary>Writes the property at <paramref name="path"/> twice, first with another value; array elements are left alone.</summary>
    private static byte[] Duplicate(string json, string path)
    {
        JsonNode root = JsonNode.Parse(json)!;
        (JsonNode parent, string key) = Locate(root, path);
        if (parent is not JsonObject)
        {
            return Encoding.UTF8.GetBytes(json);
        }

        string text = root.ToJsonString();
        string original = parent.ToJsonString();
        string marker = "\"" + key + "\":";
        int at = original.IndexOf(marker, StringComparison.Ordinal);
        string patched = original.Insert(at, marker + "\"dup\",");
        return Encoding.UTF8.GetBytes(text.Replace(original, patched, StringComparison.Ordinal));
    }

    private static (JsonNode Parent, string Key) Locate(JsonNode root, string path)
    {
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonNode current = root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            current = current is JsonObject obj ? obj[parts[i]]! : current.AsArray()[int.Parse(parts[i])]!;
        }

        return (current, parts[^1]);
    }

    private static void Replace((JsonNode Parent, string Key) at, JsonNode? value)
    {
        if (at.Parent is JsonObject obj) obj[at.Key] = value;
        else at.Parent.AsArray()[int.Parse(at.Key)] = value;
    }

    private static void Remove((JsonNode Parent, string Key) at)
    {
        if (at.Parent is JsonObject obj) obj.Remove(at.Key);
        else at.Parent.AsArray().RemoveAt(int.Parse(at.Key));
    }
}
