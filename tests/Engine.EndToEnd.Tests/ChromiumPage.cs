using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Headless Chromium with the fake camera and microphone on one page, read through the DevTools
/// protocol (Runtime.evaluate, Page.captureScreenshot). Loopback only; killed on dispose.
/// </summary>
internal sealed class ChromiumPage : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile = Path.Combine(Path.GetTempPath(), "engine-chromium-" + Guid.NewGuid().ToString("n")[..8]);
    private ClientWebSocket? _cdp;
    private int _nextId;

    public ChromiumPage(string url, string extraArgs = "")
    {
        Directory.CreateDirectory(_profile);
        var args = string.Join(' ', "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={_profile}",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
            "--remote-debugging-port=0", "--remote-allow-origins=*", extraArgs, $"\"{url}\"");
        _process = Tools.StartDrained(Tools.Require("chromium"), args);
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        if (_cdp != null)
            return _cdp;
        var portFile = Path.Combine(_profile, "DevToolsActivePort");
        // Chromium creates the file before it writes the port: an empty file means "not yet".
        var port = await Tools.PollAsync(async () => File.Exists(portFile) ? (await File.ReadAllLinesAsync(portFile)).FirstOrDefault() ?? "" : "",
            p => p.Length > 0, TimeSpan.FromSeconds(30), "Chromium's DevTools port");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list")).RootElement;
        var page = targets.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");
        _cdp = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _cdp.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), cts.Token);
        return _cdp;
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its JSON value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, bool awaitPromise = false)
    {
        var result = await CallAsync("Runtime.evaluate", new Dictionary<string, object> { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = awaitPromise });
        return result.GetProperty("result").TryGetProperty("value", out var v) ? v.Clone() : default;
    }

    /// <summary>Page.captureScreenshot: the page as a PNG, written to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var result = await CallAsync("Page.captureScreenshot", new Dictionary<string, object> { ["format"] = "png", ["captureBeyondViewport"] = true });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result.GetProperty("data").GetString()!));
    }

    /// <summary>One DevTools command; its <c>result</c>, events in between skipped.</summary>
    private async Task<JsonElement> CallAsync(string method, Dictionary<string, object> parameters)
    {
        var ws = await ConnectAsync();
        int id = ++_nextId;
        var request = JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = id, ["method"] = method, ["params"] = parameters },
            CdpJson.Default.DictionaryStringObject);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ws.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[1 << 20];
        while (true)
        {
            int n = 0;
            WebSocketReceiveResult r;
            do
            {
                if (n == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2); // a screenshot is several MB of base64
                r = await ws.ReceiveAsync(new ArraySegment<byte>(buffer, n, buffer.Length - n), cts.Token);
                n += r.Count;
            } while (!r.EndOfMessage);
            var message = JsonDocument.Parse(buffer.AsMemory(0, n)).RootElement;
            if (!message.TryGetProperty("id", out var got) || got.GetInt32() != id)
                continue;
            if (!message.TryGetProperty("result", out var result))
                throw new InvalidOperationException("DevTools answered " + message.GetRawText());
            return result.Clone();
        }
    }

    public async Task<string> StateAsync() => (await EvaluateAsync("String(window.engineState)")).GetString() ?? "";

    public async ValueTask DisposeAsync()
    {
        _cdp?.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(5000).Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        _process.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
[System.Text.Json.Serialization.JsonSerializable(typeof(bool))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class CdpJson : System.Text.Json.Serialization.JsonSerializerContext;
