using System.Collections;
using System.Dynamic;
using System.Text.Json;
using Immune.Internal;

namespace Immune.Tests.Internal;

/// <summary>
/// Meta of any shape: whatever the validator accepts can be carried by both wire formats, and whatever it rejects is
/// rejected with an <see cref="ArgumentException"/> naming <c>Meta</c>, in bounded work.
/// </summary>
public sealed class EventValidatorTests
{
    private const int Seed = 4711;

    private static EventValidator Validator(Action<ImmuneOptions>? configure = null)
    {
        var options = new ImmuneOptions();
        configure?.Invoke(options);
        options.Validate();
        return new EventValidator(options);
    }

    private static NewImmuneEvent WithMeta(object meta) => new(ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m") { Meta = (IReadOnlyDictionary<string, object?>)meta };

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(31)]
    [InlineData(ImmuneOptions.MetaDepthLimit)]
    public void Validate_MetaAsDeepAsTheOptionsAllow_RoundTripsThroughBothWireFormats(int maxDepth)
    {
        // Exactly maxDepth levels, alternating dictionaries and lists (both count as levels).
        static object Build(int levels, bool dictionary) => levels == 1
            ? new Dictionary<string, object?> { ["leaf"] = 1 }
            : dictionary ? new Dictionary<string, object?> { ["child"] = Build(levels - 1, false) } : new List<object?> { Build(levels - 1, true) };
        object meta = Build(maxDepth, dictionary: true);

        IReadOnlyDictionary<string, object?> copy = Validator(o => o.MaxMetaDepth = maxDepth).Validate(WithMeta(meta))!;

        AssertRoundTrips(copy);
    }

    [Fact]
    public void Validate_MetaOneLevelDeeperThanAllowed_ThrowsNamingMeta()
    {
        var meta = new Dictionary<string, object?> { ["a"] = new Dictionary<string, object?> { ["b"] = new List<object?>() } };

        ArgumentException exception = Should.Throw<ArgumentException>(() => Validator(o => o.MaxMetaDepth = 2).Validate(WithMeta(meta)));

        exception.ParamName.ShouldBe("Meta");
        exception.Message.ShouldContain("Meta[\"a\"][\"b\"] nests deeper than 2 levels");
    }

    [Theory]
    [InlineData(33)]
    [InlineData(64)]
    public void Options_MetaDepthBeyondWhatTheWireCarries_IsInvalid(int maxDepth)
    {
        ArgumentException exception = Should.Throw<ArgumentException>(() => new ImmuneOptions { MaxMetaDepth = maxDepth }.Validate());

        exception.Message.ShouldContain($"MaxMetaDepth must be from 1 to 32 (was {maxDepth})");
    }

    [Fact]
    public async Task Validate_SharedSubDictionariesThatExpandAstronomically_IsRejectedAtOnce()
    {
        // 64 entries per level, every one the same child, 20 levels down: 64^20 values if walked naively.
        object child = new Dictionary<string, object?> { ["leaf"] = 1 };
        for (int level = 0; level < 7; level++)
        {
            var parent = new Dictionary<string, object?>();
            for (int i = 0; i < 64; i++) parent["k" + i] = child;
            child = parent;
        }

        EventValidator validator = Validator();
        ArgumentException exception = await Task.Run(() => Should.Throw<ArgumentException>(() => validator.Validate(WithMeta(child)))).WaitAsync(TimeSpan.FromSeconds(30));

        exception.ParamName.ShouldBe("Meta");
        exception.Message.ShouldContain("holds more than 1,024 values in all");
    }

    [Fact]
    public void Validate_MetaValueBudget_CountsEveryValueAtEveryLevel()
    {
        var meta = new Dictionary<string, object?> { ["a"] = new[] { 1, 2, 3 }, ["b"] = new Dictionary<string, object?> { ["c"] = 4 } }; // 6 values

        Validator(o => o.MaxMetaValues = 6).Validate(WithMeta(meta)).ShouldNotBeNull();
        Should.Throw<ArgumentException>(() => Validator(o => o.MaxMetaValues = 5).Validate(WithMeta(meta))).ParamName.ShouldBe("Meta");
    }

    [Fact]
    public void Validate_OverLongStringKeyOrValue_ThrowsNamingMeta()
    {
        EventValidator validator = Validator(o => o.MaxMetaStringLength = 4);

        validator.Validate(WithMeta(new Dictionary<string, object?> { ["abcd"] = "wxyz" })).ShouldNotBeNull();
        Should.Throw<ArgumentException>(() => validator.Validate(WithMeta(new Dictionary<string, object?> { ["k"] = new[] { "12345" } })))
            .Message.ShouldContain("Meta[\"k\"][0] has a string of 5 characters; at most 4 are allowed");
        Should.Throw<ArgumentException>(() => validator.Validate(WithMeta(new Dictionary<string, object?> { ["abcde"] = 1 })))
            .Message.ShouldContain("has a key of 5 characters");
    }

    [Fact]
    public void Validate_GenericMutableDictionaries_AreDictionariesNotListsOfPairs()
    {
        dynamic expando = new ExpandoObject();
        expando.user = 1234;
        expando.tags = new[] { "a" };
        var sorted = new SortedDictionary<string, object?> { ["b"] = 2, ["a"] = 1 };
        var meta = new Dictionary<string, object?> { ["expando"] = (object)expando, ["sorted"] = sorted };

        IReadOnlyDictionary<string, object?> copy = Validator().Validate(WithMeta(meta))!;

        var expandoCopy = copy["expando"].ShouldBeAssignableTo<IReadOnlyDictionary<string, object?>>()!;
        expandoCopy["user"].ShouldBe(1234);
        copy["sorted"].ShouldBeAssignableTo<IReadOnlyDictionary<string, object?>>()!["a"].ShouldBe(1);
        ((IDictionary<string, object?>)expando)["user"] = 0;
        expandoCopy["user"].ShouldBe(1234); // copied deeply
        AssertRoundTrips(copy);
    }

    [Fact]
    public void Validate_RandomMetaShapes_AcceptedMetaRoundTripsAndRejectedMetaNamesMeta()
    {
        var random = new Random(Seed);
        EventValidator validator = Validator(o => { o.MaxMetaEntries = 6; o.MaxMetaDepth = 5; o.MaxMetaValues = 60; o.MaxMetaStringLength = 12; });
        int accepted = 0, rejected = 0;

        for (int round = 0; round < 3_000; round++)
        {
            var shared = new List<object>();
            var meta = new Dictionary<string, object?> { ["root"] = RandomValue(random, shared, depth: 1, dictionary: true) };
            IReadOnlyDictionary<string, object?>? copy;
            try
            {
                copy = validator.Validate(WithMeta(meta));
            }
            catch (ArgumentException exception)
            {
                exception.ParamName.ShouldBe("Meta", exception.Message);
                exception.Message.ShouldStartWith("Meta");
                rejected++;
                continue;
            }

            AssertRoundTrips(copy!);
            accepted++;
        }

        // Both outcomes must be common, or the generator tests only one side.
        accepted.ShouldBeGreaterThan(300);
        rejected.ShouldBeGreaterThan(300);
    }

    private static object? RandomValue(Random random, List<object> shared, int depth, bool dictionary = false)
    {
        int pick = dictionary ? 0 : random.Next(22);
        switch (pick)
        {
            case 0 or 1:
                if (!dictionary && shared.Count > 0 && random.Next(3) == 0) return shared[random.Next(shared.Count)]; // shared, maybe an ancestor: a cycle
                IDictionary<string, object?> map = random.Next(4) switch
                {
                    0 => new ExpandoObject(),
                    1 => new SortedDictionary<string, object?>(StringComparer.Ordinal),
                    _ => new Dictionary<string, object?>(),
                };
                shared.Add(map);
                int entries = random.Next(8);
                for (int i = 0; i < entries; i++) map["k" + random.Next(20)] = RandomValue(random, shared, depth + 1);
                return map;
            case 2 or 3:
                var list = new List<object?>();
                shared.Add(list);
                int items = random.Next(8);
                for (int i = 0; i < items; i++) list.Add(RandomValue(random, shared, depth + 1));
                return list;
            case 4: return new Hashtable { [random.Next(2) == 0 ? "h" : (object)7] = 1 };
            case 5: return random.Next(2) == 0 ? "short" : new string('s', 13);
            case 6: return random.NextInt64(long.MinValue, long.MaxValue);
            case 7: return random.NextDouble() * Math.Pow(10, random.Next(-300, 300));
            case 8: return random.Next(10) == 0 ? double.NaN : 0.5;
            case 9: return random.Next(2) == 0;
            case 10: return null;
            case 11: return ulong.MaxValue;
            case 12: return decimal.MaxValue;
            case 13: return (byte)7;
            case 14: return Guid.Empty;
            case 15: return DateTimeOffset.UnixEpoch;
            case 16: return new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            case 17: return random.Next(10) == 0 ? new object() : 1f;
            case 18: return new[] { 1, 2 };
            case 19: return (short)-3;
            case 20: return "\u00e9\u4e2d";
            default: return random.Next(10) == 0 ? ImmuneSeverity.Info : int.MinValue;
        }
    }

    /// <summary>The accepted meta inside an envelope survives both wire formats, and reads back to the same JSON.</summary>
    private static void AssertRoundTrips(IReadOnlyDictionary<string, object?> meta)
    {
        var envelope = new EventEnvelope(
            "evt_immune_1_0000000000000001",
            ImmuneEventTypes.EventPublished,
            "immune_service",
            null,
            DateTimeOffset.UnixEpoch,
            new ImmuneEventPublishedPayload(1, ImmuneSeverity.Info, ImmuneEventType.ErrorSpike, "m", DateTimeOffset.UnixEpoch) { Meta = meta },
            new EventMeta("c"));

        // Written, read and written again, the JSON no longer changes. (The first read may turn an integer beyond the
        // range of long, such as ulong.MaxValue, into a double: meta reads back as long or double.)
        string json = ImmuneJson.Serialize(ImmuneJson.DeserializeEnvelope(ImmuneJson.Serialize(envelope)));
        ImmuneJson.Serialize(ImmuneJson.DeserializeEnvelope(json)).ShouldBe(json);
        string cloud = ImmuneCloudEvents.Serialize(ImmuneCloudEvents.Deserialize(ImmuneCloudEvents.Serialize(envelope)));
        ImmuneCloudEvents.Serialize(ImmuneCloudEvents.Deserialize(cloud)).ShouldBe(cloud);
        using JsonDocument document = JsonDocument.Parse(json);
        document.RootElement.GetProperty("payload").GetProperty("meta").ValueKind.ShouldBe(JsonValueKind.Object);
    }
}
