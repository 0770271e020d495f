using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Engine.Host.Config;
using Engine.Host.Http;
using Engine.Host.Signaling;
using Engine.Host.Tests.Http;

namespace Engine.Host.Tests.Lifecycle;

/// <summary>GET /reload's legacy JSON, and what the control plane refuses while the server stops.</summary>
[Collection("log")]
public sealed class LifecycleRoutesTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "engine-routes-" + Guid.NewGuid().ToString("n")[..8] + ".config");
    private readonly FakePublishService _service = new();
    private HttpFrontend _frontend = null!;
    private HttpClient _http = null!;
    private EngineConfig _config = null!;

    public async Task InitializeAsync()
    {
        File.WriteAllText(_path, "[BASE]\nPORT=9880\n[LOG]\nLOGLEVEL=4\n");
        _config = EngineConfig.Parse(File.ReadAllText(_path));
        _config.HttpPort = 0;
        _frontend = await HttpFrontend.StartAsync(_config, _service, new TurnCredentials(_config), TimeProvider.System, IPAddress.Loopback);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_frontend.Port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _frontend.StopAsync(TimeSpan.FromSeconds(5));
        File.Delete(_path);
    }

    private async Task<(HttpStatusCode, JsonElement)> ReloadAsync()
    {
        var r = await _http.GetAsync("/reload");
        return (r.StatusCode, JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string[] Names(JsonElement e, string property) => e.GetProperty(property).EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Fact]
    public async Task ReloadAnswersTheLegacyJsonWithWhatChanged()
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _http.GetAsync("/reload")).StatusCode); // not wired yet
        _frontend.Lifecycle = new ServerLifecycle(_config, _path, _ => { });
        // The port in the file is still 9880 (the test listens on 0): a restart key.
        File.WriteAllText(_path, "[BASE]\nPORT=9880\n[LOG]\nLOGLEVEL=5\n");
        var (status, body) = await ReloadAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("ret").GetInt32());
        Assert.Equal("", body.GetProperty("errmsg").GetString());
        Assert.Equal(["[LOG] LOGLEVEL"], Names(body, "applied"));
        Assert.Equal(["[BASE] PORT"], Names(body, "restart"));
        Assert.Equal(5, _config.LogLevel);

        File.WriteAllText(_path, "[BASE]\nPORT=http\n");
        (status, body) = await ReloadAsync();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(0, body.GetProperty("ret").GetInt32());
        Assert.Contains("[BASE] PORT=http", body.GetProperty("errmsg").GetString());
        Assert.Empty(Names(body, "applied"));
        Assert.Equal(5, _config.LogLevel);
    }

    [Fact]
    public async Task WhileStoppingNewSessionsAreRefusedAndTheRestAnswers()
    {
        var lifecycle = new ServerLifecycle(_config, _path, _ => { });
        _frontend.Lifecycle = lifecycle;
        Assert.Equal(HttpStatusCode.Created, (await _http.PostAsync("/whip/cam", new StringContent("v=0\r\n", Encoding.UTF8, "application/sdp"))).StatusCode);
        lifecycle.MarkStopping();
        foreach (string path in new[] { "/whip/cam2", "/whep/cam" })
        {
            var r = await _http.PostAsync(path, new StringContent("v=0\r\n", Encoding.UTF8, "application/sdp"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Contains("stopping", await r.Content.ReadAsStringAsync());
        }
        using var ws = new ClientWebSocket();
        await Assert.ThrowsAnyAsync<WebSocketException>(() => ws.ConnectAsync(new Uri($"ws://127.0.0.1:{_frontend.Port}/ws"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _http.GetAsync("/reload")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/api/streams")).StatusCode);
        Assert.Single(_service.Sessions);
    }
}
