using System.Text.Json;

namespace Immune.Samples.Api;

/// <summary>
/// Reads a request body as JSON, answering every way it can be wrong with a 4xx problem and a detail: too large (413),
/// not JSON (400), or text that is not Unicode — invalid UTF-8, or a lone surrogate escape such as <c>"\ud800"</c> —
/// in any string or property name (400, naming where).
/// </summary>
public static class JsonBody
{
    /// <summary>The largest body accepted: 1 MiB, far more than an event within the service's default limits needs.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Reads the body; either a document (the caller disposes it) or the problem to answer with.</summary>
    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBytes)
                {
                    return (null, TooLarge());
                }

                buffer.Write(chunk, 0, read);
            }

            body = buffer.ToArray();
        }
        catch (BadHttpRequestException exception)
        {
            // The server's own limits (Kestrel's MaxRequestBodySize, a malformed chunked body): its status, our words.
            return (null, Results.Problem(statusCode: exception.StatusCode, title: "The request body could not be read.", detail: exception.Message));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException exception)
        {
            return (null, HttpProblems.Validation("body", $"The body is not valid JSON: {exception.Message}"));
        }

        if (NotText(document.RootElement, "body") is { } where)
        {
            document.Dispose();
            return (null, HttpProblems.Validation(where, $"{where} is not Unicode text: it holds invalid UTF-8 or a lone surrogate (such as \\ud800 without its pair)."));
        }

        return (document, null);
    }

    /// <summary>Finds the first string or property name that cannot be read as text; returns its path (<c>message</c>, <c>meta["k"][2]</c>).</summary>
    private static string? NotText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path; // a key that is not text: the object holding it is what is wrong
                    }

                    if (NotText(property.Value, path == "body" ? name : $"{path}[\"{name}\"]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (NotText(item, $"{path}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path;
                }

            default:
                return null;
        }
    }

    private static IResult TooLarge() => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The request body is too large.",
        detail: $"The body must be at most {MaxBytes:N0} bytes.");
}
