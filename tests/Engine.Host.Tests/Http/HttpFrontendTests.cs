using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Engine.Host.Config;
using Engine.Host.Http;
using Engine.Host.Sessions;
using Engine.Host.Signaling;

namespace Engine.Host.Tests.Http;

public sealed class HttpFrontendTests : IAsyncLifetime
{
    private readonly FakePublishService _service = new();
    private HttpFrontend _frontend = null!;
    private HttpClient _http = null!;
    private EngineConfig _config = null!;

    public async Task InitializeAsync()
    {
        _config = EngineConfig.Parse("[WEBRTC]\nSTUNSERVEREXTIP=127.0.0.1\nTURNSTATIC=1\nTURNSHARESECRET=north\nTURNCLIENTTTL=600\n");
        _config.HttpPort = 0;
        _frontend = await HttpFrontend.StartAsync(_config, _service, new TurnCredentials(_config), TimeProvider.System, IPAddress.Loopback);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_frontend.Port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _frontend.DisposeAsync();
    }

    private static StringContent Sdp(string s) => new(s, Encoding.UTF8, "application/sdp");

    [Fact]
    public async Task WhipPublishAnswersCreatedWithLocationAndTheAnswer()
    {
        var r = await _http.PostAsync("/whip/cam1", Sdp("v=0\r\n"));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal("application/sdp", r.Content.Headers.ContentType!.MediaType);
        Assert.Equal(FakePublishService.Answer, await r.Content.ReadAsStringAsync());
        var location = r.Headers.Location!.ToString();
        Assert.StartsWith("/whip/cam1/", location);
        Assert.Equal("*", r.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("whip", Assert.Single(_service.Sessions).Value.Signaling);

        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(location)).StatusCode);
        Assert.Contains(_service.Ended, e => e.Reason == "WHIP DELETE");
    }

    [Fact]
    public async Task WhipErrorsArePlainTextWithAStatus()
    {
        var wrongType = await _http.PostAsync("/whip/cam1", new StringContent("v=0", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Contains("application/sdp", await wrongType.Content.ReadAsStringAsync());

        var badName = await _http.PostAsync("/whip/" + Uri.EscapeDataString("a b"), Sdp("v=0"));
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);

        var huge = await _http.PostAsync("/whip/cam1", Sdp(new string('a', HttpFrontend.MaxSdpBytes + 1)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);

        _service.NextError = PublishError.NoFreeSession;
        var full = await _http.PostAsync("/whip/cam1", Sdp("v=0"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        Assert.Contains("NoFreeSession", await full.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", full.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task CorsPreflightIsAnswered()
    {
        var req = new HttpRequestMessage(HttpMethod.Options, "/whip/cam1");
        req.Headers.Add("Origin", "https://example.test");
        req.Headers.Add("Access-Control-Request-Method", "POST");
        var r = await _http.SendAsync(req);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Contains("POST", r.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("Content-Type", r.Headers.GetValues("Access-Control-Allow-Headers").Single());
        Assert.Contains("Location", r.Headers.GetValues("Access-Control-Expose-Headers").Single());
    }

    [Fact]
    public async Task ConsoleAndStreamsApiAreServed()
    {
        var page = await _http.GetStringAsync("/");
        Assert.Contains("engine console", page);
        Assert.Contains("/console.js", page);
        var script = await _http.GetAsync("/console.js");
        Assert.Equal("text/javascript; charset=utf-8", script.Content.Headers.ContentType?.ToString());
        string js = await script.Content.ReadAsStringAsync();
        Assert.Contains("/whip/", js);
        Assert.Contains("imRTC/sendSdpCall", js);
        Assert.Contains("/api/streams", js);
        Assert.Contains(".chart", await _http.GetStringAsync("/console.css"));
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/api/streams"));
        Assert.Equal(0, doc.RootElement.GetProperty("sessions").GetInt32());
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{_frontend.Port}/ws"), cts.Token);
        return ws;
    }

    private static async Task SendAsync(ClientWebSocket ws, string json)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>The next text message, or null when the server closed the socket.</summary>
    private static async Task<JsonElement?> ReceiveAsync(ClientWebSocket ws)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buf = new byte[256 * 1024];
        int n = 0;
        WebSocketReceiveResult r;
        do
        {
            r = await ws.ReceiveAsync(new ArraySegment<byte>(buf, n, buf.Length - n), cts.Token);
            if (r.MessageType == WebSocketMessageType.Close)
                return null;
            n += r.Count;
        } while (!r.EndOfMessage);
        return JsonDocument.Parse(buf.AsMemory(0, n)).RootElement.Clone();
    }

    [Fact]
    public async Task LegacyPingIsEchoedWithItsId()
    {
        using var ws = await ConnectAsync();
        await SendAsync(ws, """{"id":"abc","route":"imRTC/sendPing","req_data":{}}""");
        var m = (await ReceiveAsync(ws))!.Value;
        Assert.Equal("abc", m.GetProperty("id").GetString());
        Assert.Equal("imRTC/sendPing", m.GetProperty("route").GetString());
        Assert.Equal(0, m.GetProperty("errno").GetInt32());
    }

    [Fact]
    public async Task LegacyCallRepliesThenSendsTheAnswerAndClosingHangsUp()
    {
        using var ws = await ConnectAsync();
        await SendAsync(ws, """{"id":7,"route":"imRTC/sendSdpCall","req_data":{"stream":"cam2","sdp":"v=0\r\n","record":1}}""");
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(7, reply.GetProperty("id").GetInt32());
        Assert.Equal(0, reply.GetProperty("errno").GetInt32());
        Assert.Equal("rtmp://127.0.0.1/live/cam2", reply.GetProperty("data").GetProperty("rtmpUrl").GetString());
        var notice = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.SdpAnswerNotice, notice.GetProperty("route").GetString());
        Assert.Equal(FakePublishService.Answer, notice.GetProperty("req_data").GetProperty("sdp").GetString());
        var session = Assert.Single(_service.Sessions);
        Assert.True(session.Value.Record);

        session.Value.OnMediaStarted!(session.Key);
        Assert.Equal(LegacyRoutes.StartMediaNotice, (await ReceiveAsync(ws))!.Value.GetProperty("route").GetString());

        await SendAsync(ws, """{"id":8,"route":"imRTC/sendSdpUpdate","req_data":{"sdp":"v=0\r\n"}}""");
        Assert.Equal(0, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
        for (int i = 0; i < 100 && _service.Ended.IsEmpty; i++)
            await Task.Delay(50);
        Assert.Contains(_service.Ended, e => e.Id == session.Key && e.Reason == "WebSocket closed");
    }

    [Theory]
    [InlineData("""{"id":1,"route":"imRTC/sendSdpUpdate","req_data":{"sdp":"v=0"}}""", LegacyErrno.NoCall)]
    [InlineData("""{"id":1,"route":"imRTC/sendSdpCall","req_data":{"stream":"x"}}""", LegacyErrno.MissingParameter)]
    [InlineData("""{"id":1,"route":"imRTC/exec","req_data":{"cmd":"rm -rf /"}}""", LegacyErrno.UnknownRoute)]
    [InlineData("""not json""", LegacyErrno.BadJson)]
    public async Task AFailedRequestGetsItsErrorAndTheSocketCloses(string request, LegacyErrno errno)
    {
        using var ws = await ConnectAsync();
        await SendAsync(ws, request);
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal((int)errno, reply.GetProperty("errno").GetInt32());
        Assert.False(string.IsNullOrEmpty(reply.GetProperty("errmsg").GetString()));
        var notice = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.ErrorNotice, notice.GetProperty("route").GetString());
        Assert.Equal((int)errno, notice.GetProperty("errno").GetInt32());
        Assert.Null(await ReceiveAsync(ws));
    }

    [Fact]
    public async Task NoFreeSessionIsErrno6()
    {
        _service.NextError = PublishError.NoFreeSession;
        using var ws = await ConnectAsync();
        await SendAsync(ws, """{"id":1,"route":"imRTC/sendSdpCall","req_data":{"stream":"x","sdp":"v=0"}}""");
        Assert.Equal(6, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
    }

    [Fact]
    public async Task GetTokenFollowsCoturnsRestScheme()
    {
        using var ws = await ConnectAsync();
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await SendAsync(ws, """{"id":2,"route":"imRTC/sendGetToken","req_data":{"user_id":"alice"}}""");
        var server = (await ReceiveAsync(ws))!.Value.GetProperty("data").GetProperty("iceServers")[0];
        string username = server.GetProperty("username").GetString()!;
        var parts = username.Split(':');
        Assert.Equal("alice", parts[1]);
        Assert.InRange(long.Parse(parts[0]), before + 600, before + 602);
        // coturn: credential = base64(hmac-sha1(static-auth-secret, username))
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes("north"), Encoding.UTF8.GetBytes(username)));
        Assert.Equal(expected, server.GetProperty("credential").GetString());
        var urls = server.GetProperty("urls").EnumerateArray().Select(u => u.GetString()).ToArray();
        Assert.Equal(new[] { "turn:127.0.0.1?transport=udp", "turn:127.0.0.1?transport=tcp" }, urls);
    }
}
