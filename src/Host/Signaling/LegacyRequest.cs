using System.Text.Json;

namespace Engine.Host.Signaling;

/// <summary>
/// One legacy WebSocket request: <c>{"id": any, "route": "imRTC/...", "req_data": {...}}</c>.
/// The id is kept as raw JSON so the reply echoes it whatever its type.
/// </summary>
public sealed class LegacyRequest : IDisposable
{
    public const int MaxBytes = 256 * 1024; // an SDP offer with many candidates stays far below this
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 16, CommentHandling = JsonCommentHandling.Disallow };

    public required string IdJson { get; init; }
    public required string Route { get; init; }
    /// <summary>The <c>req_data</c> object; an empty object when absent.</summary>
    public required JsonElement Data { get; init; }

    private JsonDocument? _document;

    /// <summary>Returns the parse buffers to the pool; <see cref="Data"/> is invalid afterwards.</summary>
    public void Dispose() => _document?.Dispose();

    /// <summary>Parses a text frame. On failure <paramref name="error"/> says why and <paramref name="idJson"/> holds the id if one was readable.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out LegacyRequest? request, out string error, out string idJson)
    {
        request = null;
        error = "";
        idJson = "null";
        if (utf8.Length > MaxBytes)
        {
            error = $"message larger than {MaxBytes} bytes";
            return false;
        }
        // JsonDocument defers UTF-8 validation of string contents to GetString, which would throw later.
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            error = "message is not valid UTF-8";
            return false;
        }
        JsonDocument doc;
        try
        {
            // Parse(ReadOnlyMemory) keeps a reference to the caller's buffer: copy, the frame buffer is reused.
            doc = JsonDocument.Parse(utf8.ToArray(), Options);
        }
        catch (JsonException e)
        {
            error = "malformed JSON: " + e.Message;
            return false;
        }
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            error = "the message must be a JSON object";
            return false;
        }
        if (root.TryGetProperty("id", out var id))
            idJson = id.GetRawText();
        if (!root.TryGetProperty("route", out var route) || route.ValueKind != JsonValueKind.String || route.GetString() is not { Length: > 0 } routeText)
        {
            doc.Dispose();
            error = "missing \"route\"";
            return false;
        }
        JsonElement data;
        if (!root.TryGetProperty("req_data", out data) || data.ValueKind == JsonValueKind.Null)
            data = EmptyObject;
        else if (data.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            error = "\"req_data\" must be an object";
            return false;
        }
        request = new LegacyRequest { IdJson = idJson, Route = routeText, Data = data, _document = doc };
        return true;
    }

    /// <summary>A string member of req_data, or null when absent or not a string.</summary>
    public string? GetString(string name) =>
        Data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A boolean member of req_data; the legacy clients also send 0/1 and "true"/"false".</summary>
    public bool GetBool(string name) =>
        Data.TryGetProperty(name, out var v) && v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.Number => v.TryGetInt64(out long n) && n != 0,
            JsonValueKind.String => v.GetString() is "true" or "1",
            _ => false,
        };

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;
}
