using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Engine.Host.Config;
using Engine.Host.Hooks;
using Engine.Host.Http;
using Engine.Host.Signaling;
using Engine.Host.Tests.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Engine.Host.Tests.Hooks;

/// <summary>
/// The hooks through the real front-end: a back-end on Kestrel (127.0.0.1, a free port), the engine's
/// HttpFrontend with a fake session layer, clients on <c>/ws</c> with ClientWebSocket.
/// </summary>
public sealed class HooksEndToEndTests : IAsyncLifetime
{
    private readonly FakePublishService _service = new();
    private readonly ConcurrentQueue<(string Path, JsonElement Body)> _received = new();
    private WebApplication _backEnd = null!;
    private int _backEndPort;
    private HookService _hooks = null!;
    private HttpFrontend _frontend = null!;
    private HttpClient _http = null!;

    /// <summary>What /status answers, by the param's userId ("down" to drop the connection).</summary>
    private Func<string, string> _statusReply = _ => """{"ret":1}""";
    /// <summary>/sync waits for this before it answers.</summary>
    private volatile TaskCompletionSource _syncGate = Completed();

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _backEnd = builder.Build();
        _backEnd.MapPost("/{hook}", async ctx =>
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
            var body = doc.RootElement.Clone();
            string path = ctx.Request.Path.Value!;
            _received.Enqueue((path, body));
            if (path == "/sync")
                await _syncGate.Task.WaitAsync(TimeSpan.FromSeconds(20));
            string reply = path == "/status" && UserParam.TryGetUserId(body.GetProperty("param").GetString(), out var user) ? _statusReply(user) : """{"ret":1}""";
            if (reply == "down")
            {
                ctx.Abort();
                return;
            }
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(reply);
        });
        await _backEnd.StartAsync();
        _backEndPort = new Uri(_backEnd.Urls.First()).Port;
        await StartEngineAsync(_backEndPort);
    }

    private async Task StartEngineAsync(int backEndPort, double syncIntervalSeconds = 0)
    {
        var config = EngineConfig.Parse($"[EXT]\nEXTSETSTATUSPATH=http://127.0.0.1:{backEndPort}/status\nEXTSYNCPATH=http://127.0.0.1:{backEndPort}/sync\nEXTRTHREADCOUNT=2\n");
        config.HttpPort = 0;
        _hooks = new HookService(config, new HookOptions { Backoff = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(5), SyncInterval = TimeSpan.FromSeconds(syncIntervalSeconds) });
        _frontend = await HttpFrontend.StartAsync(config, _service, new TurnCredentials(config), TimeProvider.System, IPAddress.Loopback, hooks: _hooks);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_frontend.Port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _frontend.DisposeAsync();
        _hooks.Dispose();
        await _backEnd.StopAsync();
        await _backEnd.DisposeAsync();
    }

    private List<JsonElement> Received(string path) => _received.Where(r => r.Path == path).Select(r => r.Body).ToList();

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
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buf = new byte[64 * 1024];
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

    private static string Login(string param) => "{\"id\":1,\"route\":\"imRTC/login\",\"req_data\":{\"param\":\"" + param + "\"}}";

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        var r = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task WaitForStartupSync() =>
        Assert.True(await FakeBackEnd.Until(() => _hooks.Counters.Calls(HookKind.Sync, HookResult.Ok) >= 1 && !_hooks.SyncPending));

    [Fact]
    public async Task TheStartupSyncAndSyncOnlineUsersSendTheOnlineList()
    {
        await WaitForStartupSync();
        var first = Assert.Single(Received("/sync"));
        Assert.Equal(0, first.GetProperty("params").GetArrayLength());

        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=bob&token=t1"));
        Assert.Equal(0, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());

        var answer = await GetJsonAsync("/synconlineusers");
        Assert.Equal(1, answer.GetProperty("ret").GetInt32());
        Assert.True(await FakeBackEnd.Until(() => Received("/sync").Count == 2));
        var second = Received("/sync")[1].GetProperty("params");
        Assert.Equal("userId=bob&token=t1", Assert.Single(second.EnumerateArray()).GetString());
    }

    [Fact]
    public async Task ALoginAcceptedByTheBackEndCanCallAndItsCloseSendsTheOfflineCall()
    {
        await WaitForStartupSync();
        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=alice&room=9"));
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.Login, reply.GetProperty("route").GetString());
        Assert.Equal(0, reply.GetProperty("errno").GetInt32());
        Assert.Equal("alice", reply.GetProperty("data").GetProperty("userId").GetString());
        var status = Assert.Single(Received("/status"));
        Assert.Equal("userId=alice&room=9", status.GetProperty("param").GetString());
        Assert.Equal(1, status.GetProperty("status").GetInt32());

        var online = await GetJsonAsync("/getonlineusers");
        Assert.Equal(1, online.GetProperty("ret").GetInt32());
        Assert.Equal("", online.GetProperty("errmsg").GetString());
        Assert.Equal(1, online.GetProperty("count").GetInt32());
        Assert.Equal("alice", Assert.Single(online.GetProperty("userlist").EnumerateArray()).GetString());

        // Logged in, the socket calls as before.
        await SendAsync(ws, """{"id":2,"route":"imRTC/sendSdpCall","req_data":{"stream":"cam9","sdp":"v=0\r\n"}}""");
        Assert.Equal(0, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
        Assert.Equal(LegacyRoutes.SdpAnswerNotice, (await ReceiveAsync(ws))!.Value.GetProperty("route").GetString());

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
        Assert.True(await FakeBackEnd.Until(() => Received("/status").Count == 2));
        var offline = Received("/status")[1];
        Assert.Equal("userId=alice&room=9", offline.GetProperty("param").GetString());
        Assert.Equal(0, offline.GetProperty("status").GetInt32());
        Assert.Equal(0, (await GetJsonAsync("/getonlineusers")).GetProperty("count").GetInt32());
        Assert.Equal(1, _hooks.Counters.Calls(HookKind.Offline, HookResult.Ok));
    }

    [Fact]
    public async Task ALoginTheBackEndRejectsIsErrno11AndTheSocketCloses()
    {
        await WaitForStartupSync();
        _statusReply = _ => """{"ret":0,"errmsg":"banned"}""";
        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=mallory"));
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal((int)LegacyErrno.LoginRejected, reply.GetProperty("errno").GetInt32());
        var notice = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.ErrorNotice, notice.GetProperty("route").GetString());
        Assert.Equal(11, notice.GetProperty("errno").GetInt32());
        Assert.Null(await ReceiveAsync(ws));
        Assert.Equal(0, (await GetJsonAsync("/getonlineusers")).GetProperty("count").GetInt32());
        Assert.Single(Received("/status")); // rejected: no offline call for a socket never logged in
    }

    [Fact]
    public async Task ABackEndThatDropsTheConnectionIsErrno12AfterTheRetries()
    {
        await WaitForStartupSync();
        _statusReply = _ => "down";
        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=bob"));
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal((int)LegacyErrno.HookFailed, reply.GetProperty("errno").GetInt32());
        Assert.Equal(12, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
        Assert.Null(await ReceiveAsync(ws));
        Assert.Equal(3, Received("/status").Count);
        Assert.Equal(1, _hooks.Counters.Calls(HookKind.Status, HookResult.Failed));
        // A failed status call asks for a sync.
        Assert.True(await FakeBackEnd.Until(() => Received("/sync").Count == 2));
    }

    [Fact]
    public async Task ABackEndThatIsDownIsErrno12()
    {
        // A port nobody listens on: connection refused on every attempt.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _http.Dispose();
        await _frontend.DisposeAsync();
        _hooks.Dispose();
        await StartEngineAsync(closed, syncIntervalSeconds: 30);
        // The start-up sync fails too; until it has, logins answer 16.
        Assert.True(await FakeBackEnd.Until(() => _hooks.Counters.Calls(HookKind.Sync, HookResult.Failed) == 1 && !_hooks.SyncPending));

        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=bob"));
        var reply = (await ReceiveAsync(ws))!.Value;
        Assert.Equal((int)LegacyErrno.HookFailed, reply.GetProperty("errno").GetInt32());
        Assert.Equal(6, _hooks.Counters.Attempts); // the sync's 3 and the login's 3
        Assert.Equal(1, _hooks.Counters.Calls(HookKind.Status, HookResult.Failed));
        Assert.Equal(SyncStart.Deferred, _hooks.RequestSync()); // the failures asked for one, 30 s after the last
    }

    [Fact]
    public async Task ALoginWhileTheSyncIsInFlightIsErrno16()
    {
        await WaitForStartupSync();
        _syncGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.Equal("started", (await GetJsonAsync("/synconlineusers")).GetProperty("sync").GetString());
        Assert.Equal("pending", (await GetJsonAsync("/synconlineusers")).GetProperty("sync").GetString());
        using (var ws = await ConnectAsync())
        {
            await SendAsync(ws, Login("userId=dave"));
            Assert.Equal((int)LegacyErrno.SyncPending, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
        }
        Assert.Empty(Received("/status"));
        _syncGate.SetResult();
        Assert.True(await FakeBackEnd.Until(() => !_hooks.SyncPending));
        using var again = await ConnectAsync();
        await SendAsync(again, Login("userId=dave"));
        Assert.Equal(0, (await ReceiveAsync(again))!.Value.GetProperty("errno").GetInt32());
    }

    [Fact]
    public async Task WithoutHooksALoginIsAcceptedLocally()
    {
        await WaitForStartupSync(); // the first engine's, before the swap
        int calls = _received.Count;
        _http.Dispose();
        await _frontend.DisposeAsync();
        _hooks.Dispose();
        var config = EngineConfig.Parse("");
        config.HttpPort = 0;
        // No HookService passed, as the front-end's other tests do: one without URLs is made.
        _frontend = await HttpFrontend.StartAsync(config, _service, new TurnCredentials(config), TimeProvider.System, IPAddress.Loopback);
        _hooks = new HookService(config); // disposed with the test; the front-end's own holds nothing
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_frontend.Port}"), Timeout = TimeSpan.FromSeconds(10) };

        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=erin"));
        Assert.Equal(0, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
        var online = await GetJsonAsync("/getonlineusers");
        Assert.Equal("erin", Assert.Single(online.GetProperty("userlist").EnumerateArray()).GetString());
        Assert.Equal(0, (await GetJsonAsync("/synconlineusers")).GetProperty("ret").GetInt32());
        Assert.Equal(calls, _received.Count);
    }

    [Fact]
    public async Task KickUserSendsTheNoticeAndClosesTheSocketAndItsCall()
    {
        await WaitForStartupSync();
        using var ws = await ConnectAsync();
        await SendAsync(ws, Login("userId=carol"));
        Assert.Equal(0, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
        await SendAsync(ws, """{"id":2,"route":"imRTC/sendSdpCall","req_data":{"stream":"cam7","sdp":"v=0\r\n"}}""");
        Assert.Equal(0, (await ReceiveAsync(ws))!.Value.GetProperty("errno").GetInt32());
        Assert.Equal(LegacyRoutes.SdpAnswerNotice, (await ReceiveAsync(ws))!.Value.GetProperty("route").GetString());
        string session = Assert.Single(_service.Sessions).Key;

        var missing = await GetJsonAsync("/kickuser");
        Assert.Equal(0, missing.GetProperty("ret").GetInt32());
        Assert.Equal(0, (await GetJsonAsync("/kickuser?userId=nobody")).GetProperty("ret").GetInt32());

        var kicked = await GetJsonAsync("/kickuser?userId=carol");
        Assert.Equal(1, kicked.GetProperty("ret").GetInt32());
        Assert.Equal(1, kicked.GetProperty("count").GetInt32());
        var notice = (await ReceiveAsync(ws))!.Value;
        Assert.Equal(LegacyRoutes.KickUserNotice, notice.GetProperty("route").GetString());
        Assert.Equal(JsonValueKind.Null, notice.GetProperty("id").ValueKind);
        Assert.Equal("carol", notice.GetProperty("req_data").GetProperty("userId").GetString());
        Assert.Null(await ReceiveAsync(ws));
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", cts.Token);

        Assert.True(await FakeBackEnd.Until(() => _service.Ended.Any(e => e.Id == session)));
        Assert.Equal(0, (await GetJsonAsync("/getonlineusers")).GetProperty("count").GetInt32());
        Assert.True(await FakeBackEnd.Until(() => Received("/status").Count(b => b.GetProperty("status").GetInt32() == 0) == 1));
    }
}
