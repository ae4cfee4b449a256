using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Immune.Samples.Tests;

/// <summary>
/// The API sample's HTTP layer fuzzed as the readers are: every truncation of a golden body, byte mutations on fixed
/// seeds, text that is not Unicode in every string and key, wrong kinds and repeated keys at every field, bodies over
/// the limit, and query values that are not numbers. Every answer is 2xx or a 4xx problem with a detail; none is 5xx.
/// </summary>
public sealed class ApiFuzzTests : IAsyncLifetime
{
    private const string Golden = """{"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reused","agent_id":"agent-7","module":"auth","meta":{"user":"u1","attempts":[1,2.5,{"ok":true}],"n":null}}""";
    private const string Severity = """{"severity":"WARNING"}""";

    private readonly WebApplicationFactory<Program> _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        (await Post("/api/immune/event", Encoding.UTF8.GetBytes(Golden))).StatusCode.ShouldBe(HttpStatusCode.OK); // event 1 exists
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private Task<HttpResponseMessage> Post(string path, byte[] body)
        => _client.PostAsync(path, new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });

    /// <summary>2xx, or a 4xx problem whose detail says what is wrong; never a 5xx.</summary>
    private static async Task<JsonElement?> ShouldBeAnsweredAsync(HttpResponseMessage response, string what)
    {
        int status = (int)response.StatusCode;
        string text = await response.Content.ReadAsStringAsync();
        status.ShouldBeLessThan(500, $"{what} -> {status}: {text}");
        if (status < 400)
        {
            return null;
        }

        status.ShouldBeLessThan(500);
        JsonElement problem = JsonDocument.Parse(text).RootElement;
        problem.GetProperty("detail").GetString().ShouldNotBeNullOrWhiteSpace($"{what} -> {status} without a detail: {text}");
        return problem;
    }

    /// <summary>A 400 whose errors name <paramref name="field"/>.</summary>
    private static async Task ShouldNameAsync(HttpResponseMessage response, string field, string what)
    {
        JsonElement? problem = await ShouldBeAnsweredAsync(response, what);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, what);
        problem!.Value.GetProperty("errors").EnumerateObject().Select(p => p.Name).ShouldContain(field, what);
    }

    [Theory]
    [InlineData("/api/immune/event", Golden)]
    [InlineData("/api/immune/event/1/severity", Severity)]
    public async Task Post_EveryTruncation_Is400WithADetail(string path, string golden)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(golden);
        for (int length = 0; length < bytes.Length; length++)
        {
            HttpResponseMessage response = await Post(path, bytes[..length]);
            await ShouldBeAnsweredAsync(response, $"truncated to {length}");
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"truncated to {length}");
        }
    }

    [Theory]
    [InlineData("/api/immune/event", Golden, 1)]
    [InlineData("/api/immune/event", Golden, 2)]
    [InlineData("/api/immune/event/1/severity", Severity, 3)]
    public async Task Post_ByteMutations_AreAnsweredWithoutA5xx(string path, string golden, int seed)
    {
        var random = new Random(seed);
        byte[] bytes = Encoding.UTF8.GetBytes(golden);
        for (int i = 0; i < 400; i++)
        {
            var mutated = bytes.ToList();
            int at = random.Next(mutated.Count);
            byte value = (byte)random.Next(256);
            switch (random.Next(3))
            {
                case 0: mutated[at] = value; break;
                case 1: mutated.Insert(at, value); break;
                default: mutated.RemoveAt(at); break;
            }

            await ShouldBeAnsweredAsync(await Post(path, [.. mutated]), $"mutation {i}: {Convert.ToHexString([.. mutated])}");
        }
    }

    public static TheoryData<string, string> NotText() => new()
    {
        // Invalid UTF-8 (a lone 0xFF byte, written here as \xFF and replaced below) and lone surrogates, in values and keys.
        { """{"severity":"CRI\xFFTICAL","type":"ERROR_SPIKE","message":"m"}""", "severity" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m\xFF"}""", "message" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","agent_id":"\xFF"}""", "agent_id" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","module":"a\xFFb"}""", "module" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"k":"\xFF"}}""", "meta[\"k\"]" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"k":["ok","\xFF"]}}""", "meta[\"k\"][1]" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"k\xFF":1}}""", "meta" },
        { """{"sev\xFFerity":"INFO","type":"ERROR_SPIKE","message":"m"}""", "body" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"\ud800"}""", "message" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"a\udc00b"}""", "message" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","agent_id":"\ud800"}""", "agent_id" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"\ud800":1}}""", "meta" },
        { """{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"k":"\ud800"}}""", "meta[\"k\"]" },
        { """{"\ud800":"INFO","type":"ERROR_SPIKE","message":"m"}""", "body" },
    };

    [Theory]
    [MemberData(nameof(NotText))]
    public async Task PostEvent_TextThatIsNotUnicode_Is400NamingWhere(string body, string field)
        => await ShouldNameAsync(await Post("/api/immune/event", Bytes(body)), field, body);

    [Theory]
    [InlineData("""{"severity":"\ud800"}""", "severity")]
    [InlineData("""{"severity":"IN\xFFFO"}""", "severity")]
    [InlineData("""{"sev\ud800erity":"INFO"}""", "body")]
    public async Task PostSeverity_TextThatIsNotUnicode_Is400NamingWhere(string body, string field)
        => await ShouldNameAsync(await Post("/api/immune/event/1/severity", Bytes(body)), field, body);

    [Fact]
    public async Task PostEvent_WrongKindAtEveryField_IsAcceptedOr400NamingIt()
    {
        string[] kinds = ["1", "\"x\"", "true", "null", "[]", "{}", "1.5e300", "-0"];
        foreach (string field in new[] { "severity", "type", "message", "agent_id", "module", "meta" })
        {
            foreach (string kind in kinds)
            {
                using JsonDocument golden = JsonDocument.Parse(Golden);
                string body = "{" + string.Join(",", golden.RootElement.EnumerateObject().Select(p => $"\"{p.Name}\":{(p.Name == field ? kind : p.Value.GetRawText())}")) + "}";
                HttpResponseMessage response = await Post("/api/immune/event", Encoding.UTF8.GetBytes(body));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    await ShouldNameAsync(response, field, body);
                }
            }
        }
    }

    [Fact]
    public async Task Post_RepeatedOrUnknownField_Is400NamingIt()
    {
        using JsonDocument golden = JsonDocument.Parse(Golden);
        foreach (JsonProperty property in golden.RootElement.EnumerateObject())
        {
            string repeated = Golden[..^1] + $",\"{property.Name}\":{property.Value.GetRawText()}}}";
            await ShouldNameAsync(await Post("/api/immune/event", Encoding.UTF8.GetBytes(repeated)), property.Name, repeated);
        }

        await ShouldNameAsync(await Post("/api/immune/event", Encoding.UTF8.GetBytes(Golden[..^1] + ",\"sevrity\":\"INFO\"}")), "sevrity", "unknown");
        await ShouldNameAsync(await Post("/api/immune/event", Encoding.UTF8.GetBytes("""{"severity":"INFO","type":"ERROR_SPIKE","message":"m","meta":{"k":1,"k":2}}""")), "meta", "meta key twice");

        // The severity endpoint is as strict: a repeated severity must not escalate anything.
        await ShouldNameAsync(await Post("/api/immune/event/1/severity", Encoding.UTF8.GetBytes("""{"severity":"INFO","severity":"CRITICAL"}""")), "severity", "severity twice");
        await ShouldNameAsync(await Post("/api/immune/event/1/severity", Encoding.UTF8.GetBytes("""{"severity":"INFO","reason":"x"}""")), "reason", "unknown");
        await ShouldNameAsync(await Post("/api/immune/event/1/severity", Encoding.UTF8.GetBytes("[\"INFO\"]")), "body", "not an object");
        JsonElement health = JsonDocument.Parse(await _client.GetStringAsync("/api/immune/health")).RootElement;
        health.GetProperty("critical_issues").GetInt32().ShouldBe(1); // only the golden event: nothing was changed
    }

    [Theory]
    [InlineData("/api/immune/event", true)]
    [InlineData("/api/immune/event", false)]
    [InlineData("/api/immune/event/1/severity", true)]
    public async Task Post_BodyOverTheLimit_Is413WithADetail(string path, bool withLength)
    {
        byte[] body = Encoding.UTF8.GetBytes("{\"message\":\"" + new string('x', 2 << 20) + "\"}");
        HttpContent content = withLength ? new ByteArrayContent(body) : new StreamContent(new UnknownLengthStream(body));
        content.Headers.ContentType = new("application/json");

        HttpResponseMessage response = await _client.PostAsync(path, content);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await ShouldBeAnsweredAsync(response, "too large"))!.Value.GetProperty("detail").GetString()!.ShouldContain("at most 1,048,576 bytes");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e400")]
    [InlineData("-1")]
    [InlineData("60minutes")]
    [InlineData("%FF")]
    public async Task Get_MinutesThatIsNoWindow_Is400NamingMinutes(string minutes)
    {
        foreach (string path in new[] { "/api/immune/health", "/api/immune/events" })
        {
            await ShouldNameAsync(await _client.GetAsync($"{path}?minutes={minutes}"), "minutes", $"{path}?minutes={minutes}");
        }
    }

    [Fact]
    public async Task PostSeverity_UnknownEvent_Is404WithADetail()
    {
        HttpResponseMessage response = await Post("/api/immune/event/999/severity", Encoding.UTF8.GetBytes(Severity));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await ShouldBeAnsweredAsync(response, "unknown"))!.Value.GetProperty("detail").GetString().ShouldBe("No event with id 999 is retained.");
    }

    /// <summary>The UTF-8 of a C# string, where <c>\xFF</c> written in it stands for the byte 0xFF (invalid UTF-8).</summary>
    private static byte[] Bytes(string text)
    {
        string[] parts = text.Split("\\xFF");
        var bytes = new List<byte>();
        for (int i = 0; i < parts.Length; i++)
        {
            if (i > 0) bytes.Add(0xFF);
            bytes.AddRange(Encoding.UTF8.GetBytes(parts[i]));
        }

        return [.. bytes];
    }

    /// <summary>A body sent chunked, with no Content-Length: the server learns its size only by reading it.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
