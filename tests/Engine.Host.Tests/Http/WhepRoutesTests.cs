using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text;
using Engine.Host.Config;
using Engine.Host.Http;
using Engine.Host.Sessions;
using Engine.Host.Signaling;

namespace Engine.Host.Tests.Http;

/// <summary>The WHEP routes (draft-ietf-wish-whep §4) over the fake session layer: status codes, headers, plain-text errors.</summary>
public sealed class WhepRoutesTests : IAsyncLifetime
{
    private readonly FakePublishService _service = new();
    private HttpFrontend _frontend = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var config = EngineConfig.Parse("[WEBRTC]\nSTUNSERVEREXTIP=127.0.0.1\n");
        config.HttpPort = 0;
        _frontend = await HttpFrontend.StartAsync(config, _service, new TurnCredentials(config), TimeProvider.System, IPAddress.Loopback);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_frontend.Port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _frontend.DisposeAsync();
    }

    private static StringContent Sdp(string s) => new(s, Encoding.UTF8, "application/sdp");

    [Fact]
    public async Task PostAnswersCreatedWithLocationETagAndTheAnswer()
    {
        var r = await _http.PostAsync("/whep/cam1", Sdp("v=0\r\n"));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal("application/sdp", r.Content.Headers.ContentType!.MediaType);
        Assert.Equal(FakePublishService.Answer, await r.Content.ReadAsStringAsync());
        var location = r.Headers.Location!.ToString();
        var (id, request) = Assert.Single(_service.Players);
        Assert.Equal($"/whep/cam1/{id}", location);
        Assert.Equal($"\"{id}\"", r.Headers.ETag!.Tag);
        Assert.Equal("whep", request.Signaling);
        Assert.Equal("cam1", request.Stream);
        Assert.Contains("ETag", r.Headers.GetValues("Access-Control-Expose-Headers").Single());

        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(location)).StatusCode);
        Assert.Empty(_service.Players);
        Assert.Contains(_service.Ended, e => e.Id == id && e.Reason == "WHEP DELETE");
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(location)).StatusCode);
    }

    [Fact]
    public async Task UnknownStreamIs404AndAFullServerIs503AsPlainText()
    {
        var unknown = await _http.PostAsync("/whep/nobody", Sdp("v=0\r\n"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("text/plain", unknown.Content.Headers.ContentType!.MediaType);
        Assert.Contains("'nobody' is not being published", await unknown.Content.ReadAsStringAsync());

        _service.NextError = PublishError.NoFreeSession;
        var full = await _http.PostAsync("/whep/cam1", Sdp("v=0\r\n"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        Assert.Equal("text/plain", full.Content.Headers.ContentType!.MediaType);

        _service.NextError = PublishError.UnsupportedOffer;
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsync("/whep/cam1", Sdp("v=0\r\n"))).StatusCode);
        _service.NextError = PublishError.None;

        var wrongType = await _http.PostAsync("/whep/cam1", new StringContent("v=0", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsync("/whep/bad%20name", Sdp("v=0\r\n"))).StatusCode);
        Assert.Empty(_service.Players);
    }

    [Fact]
    public async Task OptionsAnswersCorsAndAcceptPost()
    {
        var r = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/whep/cam1"));
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Equal("*", r.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", r.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("PATCH", r.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("application/sdp", r.Headers.GetValues("Accept-Post").Single());
    }

    [Fact]
    public async Task PatchWithTrickleIsNoContentAndOtherBodiesAreRefused()
    {
        var post = await _http.PostAsync("/whep/cam1", Sdp("v=0\r\n"));
        var location = post.Headers.Location!.ToString();
        var trickle = new HttpRequestMessage(HttpMethod.Patch, location)
        {
            Content = new StringContent("a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n",
                Encoding.UTF8, "application/trickle-ice-sdpfrag"),
        };
        Assert.Equal(HttpStatusCode.NoContent, (await _http.SendAsync(trickle)).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Sdp("v=0\r\n") };
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _http.SendAsync(wrong)).StatusCode);
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
    public async Task LegacyPullAnswersByNoticeAndThePublisherLeavingSendsTheErrorNotice()
    {
        using var ws = await ConnectAsync();
        await SendAsync(ws, """{"id":3,"route":"imRTC/sendSdpPull","req_data":{"stream":"cam1","sdp":"v=0\r\n"}}""");
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(3, reply.GetProperty("id").GetInt32());
        Assert.Equal(0, reply.GetProperty("errno").GetInt32());
        var notice = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.SdpAnswerNotice, notice.GetProperty("route").GetString());
        Assert.Equal(FakePublishService.Answer, notice.GetProperty("req_data").GetProperty("sdp").GetString());
        var (id, request) = Assert.Single(_service.Players);
        Assert.Equal("ws", request.Signaling);

        request.OnEnded!(id, "the publisher left");
        var error = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.ErrorNotice, error.GetProperty("route").GetString());
        Assert.Equal("the publisher left", error.GetProperty("req_data").GetProperty("reason").GetString());
        // Then the server hangs up (a close frame, or the connection dropped).
        JsonElement? after;
        try { after = await ReceiveAsync(ws); } catch (WebSocketException) { after = null; }
        Assert.Null(after);
    }

    [Fact]
    public async Task LegacyPullOfAnUnknownStreamIsErrno13()
    {
        using var ws = await ConnectAsync();
        await SendAsync(ws, """{"id":4,"route":"imRTC/sendSdpPull","req_data":{"stream":"nobody","sdp":"v=0\r\n"}}""");
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal((int)LegacyErrno.NotFound, reply.GetProperty("errno").GetInt32());
        Assert.Contains("not being published", reply.GetProperty("errmsg").GetString());
    }
}
