using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Engine.Host.Hooks;
using Engine.Host.Sessions;
using Microsoft.AspNetCore.Http;

namespace Engine.Host.Signaling;

/// <summary>
/// The legacy gateway's WebSocket protocol (docs/LEGACY-GATEWAY.md): one socket, at most one
/// call. A failed request gets its error reply and the socket is closed; closing the socket hangs
/// up. <c>imRTC/login</c> is checked by the back-end hooks (<see cref="HookService"/>); a socket may
/// call without it, as before. Nothing here executes anything a client sends.
/// </summary>
public sealed class LegacyWebSocketHandler(IPublishService service, TurnCredentials turn, TimeProvider clock, HookService hooks)
{
    public const int MaxMessageBytes = LegacyRequest.MaxBytes;
    public static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(60);

    public async Task HandleAsync(HttpContext ctx)
    {
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            ctx.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }
        using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
        var connection = new Connection(socket, service, turn, clock, hooks, ctx.Connection.LocalIpAddress, ctx.RequestAborted);
        await connection.RunAsync();
    }

    private sealed class Connection(WebSocket socket, IPublishService service, TurnCredentials turn, TimeProvider clock, HookService hooks, System.Net.IPAddress? localAddress, CancellationToken aborted)
        : IOnlineSocket
    {
        // Replies and notices come from the receive loop and from media threads: one writer keeps frames whole.
        private readonly Channel<byte[]?> _outbox = Channel.CreateBounded<byte[]?>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite });
        private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        private string? _sessionId;
        private bool _active; // called or logged in: the idle limit no longer applies
        private volatile bool _closing;

        public async Task RunAsync()
        {
            var sender = SendLoopAsync();
            var idle = IdleWatchAsync();
            try
            {
                await ReceiveLoopAsync();
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // Peer vanished or we closed: both end the call below.
            }
            finally
            {
                _closing = true;
                if (_sessionId != null)
                    service.End(_sessionId, "WebSocket closed");
                hooks.Logout(this); // the offline call, queued
                _outbox.Writer.TryWrite(null);
                await sender;
                _cts.Cancel();
                await idle;
            }
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new byte[MaxMessageBytes + 1];
            while (socket.State == WebSocketState.Open && !_closing)
            {
                int length = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    if (length == buffer.Length)
                    {
                        await FailAsync("null", "", LegacyErrno.BadJson, $"message larger than {MaxMessageBytes} bytes");
                        return;
                    }
                    r = await socket.ReceiveAsync(buffer.AsMemory(length), _cts.Token);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        _closing = true;
                        return;
                    }
                    length += r.Count;
                } while (!r.EndOfMessage);
                if (!await HandleMessageAsync(buffer.AsSpan(0, length).ToArray()))
                    return;
            }
        }

        private async Task<bool> HandleMessageAsync(byte[] message)
        {
            if (!LegacyRequest.TryParse(message, out var request, out var error, out var idJson))
            {
                await FailAsync(idJson, "", LegacyErrno.BadJson, error);
                return false;
            }
            using (request)
            {
                switch (request!.Route)
                {
                    case LegacyRoutes.SendPing:
                        Send(LegacyReply.Reply(request.IdJson, request.Route, LegacyErrno.Ok, ""));
                        return true;
                    case LegacyRoutes.SendSdpCall:
                        return await CallAsync(request, pull: false);
                    case LegacyRoutes.SendSdpPull:
                        return await CallAsync(request, pull: true);
                    case LegacyRoutes.SendSdpUpdate:
                        return await UpdateAsync(request);
                    case LegacyRoutes.SendGetToken:
                        return await GetTokenAsync(request);
                    case LegacyRoutes.Login:
                        return await LoginAsync(request);
                    default:
                        await FailAsync(request.IdJson, request.Route, LegacyErrno.UnknownRoute, $"route '{request.Route}' is not served");
                        return false;
                }
            }
        }

        /// <summary>sendSdpCall publishes; sendSdpPull plays a stream published here, else pulls it from RTMP2RTPBASEURL[_server_id].</summary>
        private async Task<bool> CallAsync(LegacyRequest request, bool pull)
        {
            string? stream = request.GetString("stream"), sdp = request.GetString("sdp");
            if (string.IsNullOrEmpty(stream) || string.IsNullOrEmpty(sdp))
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.MissingParameter, "stream and sdp are required");
                return false;
            }
            if (!Http.HttpFrontend.StreamName().IsMatch(stream))
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.MissingParameter, "stream name must be 1-128 characters of A-Z a-z 0-9 _ . -");
                return false;
            }
            if (_sessionId != null)
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.CallExists, "this socket already has a call");
                return false;
            }
            Action<string, string> onEnded = (_, reason) =>
            {
                Send(LegacyReply.Notice(LegacyRoutes.ErrorNotice, w => { w.WriteStartObject(); w.WriteString("reason", reason); w.WriteEndObject(); },
                    LegacyErrno.MediaFailed, reason));
                _sessionId = null;
                _closing = true;
                _outbox.Writer.TryWrite(null);
            };
            var outcome = pull
                ? service.Play(new Playback.PlayRequest { Stream = stream, OfferSdp = sdp, Signaling = "ws", LocalAddress = localAddress, OnEnded = onEnded, ServerId = request.GetString("server_id") })
                : service.Publish(new PublishRequest
                {
                    Stream = stream,
                    OfferSdp = sdp,
                    Record = request.GetBool("record"),
                    Signaling = "ws",
                    LocalAddress = localAddress,
                    OnMediaStarted = _ => Send(LegacyReply.Notice(LegacyRoutes.StartMediaNotice)),
                    OnEnded = onEnded,
                });
            if (!outcome.Succeeded)
            {
                await FailAsync(request.IdJson, request.Route, outcome.Error.Errno(), outcome.Reason);
                return false;
            }
            _sessionId = outcome.SessionId;
            _active = true;
            Send(LegacyReply.Reply(request.IdJson, request.Route, LegacyErrno.Ok, "", w =>
            {
                w.WriteStartObject();
                if (outcome.RtmpUrl != null) w.WriteString("rtmpUrl", outcome.RtmpUrl); else w.WriteNull("rtmpUrl");
                w.WriteEndObject();
            }));
            Send(LegacyReply.Notice(LegacyRoutes.SdpAnswerNotice, w => { w.WriteStartObject(); w.WriteString("sdp", outcome.AnswerSdp); w.WriteEndObject(); }));
            return true;
        }

        private async Task<bool> UpdateAsync(LegacyRequest request)
        {
            if (_sessionId == null)
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.NoCall, "no call on this socket");
                return false;
            }
            string? sdp = request.GetString("sdp");
            if (string.IsNullOrEmpty(sdp))
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.MissingParameter, "sdp is required");
                return false;
            }
            var outcome = service.Update(_sessionId, sdp);
            if (!outcome.Succeeded)
            {
                await FailAsync(request.IdJson, request.Route, outcome.Error.Errno(), outcome.Reason);
                return false;
            }
            Send(LegacyReply.Reply(request.IdJson, request.Route, LegacyErrno.Ok, ""));
            return true;
        }

        /// <summary>imRTC/login: the back-end's verdict on <c>param</c> (awaited: the receive loop holds no thread meanwhile).</summary>
        private async Task<bool> LoginAsync(LegacyRequest request)
        {
            string? param = request.GetString("param");
            var (errno, message) = await hooks.LoginAsync(this, param);
            if (errno != LegacyErrno.Ok)
            {
                await FailAsync(request.IdJson, request.Route, errno, message);
                return false;
            }
            _active = true;
            UserParam.TryGetUserId(param, out var userId);
            Send(LegacyReply.Reply(request.IdJson, request.Route, LegacyErrno.Ok, "", w =>
            {
                w.WriteStartObject();
                w.WriteString("userId", userId);
                w.WriteEndObject();
            }));
            return true;
        }

        /// <summary>/kickuser: the notice, then the close; the call ends with the socket.</summary>
        public void Kick(string userId)
        {
            Send(LegacyReply.Notice(LegacyRoutes.KickUserNotice, w => { w.WriteStartObject(); w.WriteString("userId", userId); w.WriteEndObject(); },
                LegacyErrno.Ok, "kicked by the back-end"));
            _closing = true;
            _outbox.Writer.TryWrite(null);
        }

        private async Task<bool> GetTokenAsync(LegacyRequest request)
        {
            string? user = request.GetString("user_id");
            if (string.IsNullOrEmpty(user))
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.MissingParameter, "user_id is required");
                return false;
            }
            if (!turn.TryCreate(user, clock.GetUtcNow().ToUnixTimeSeconds(), out var server, out var error))
            {
                await FailAsync(request.IdJson, request.Route, LegacyErrno.NotFound, error);
                return false;
            }
            Send(LegacyReply.Reply(request.IdJson, request.Route, LegacyErrno.Ok, "", w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("iceServers");
                w.WriteStartObject();
                w.WriteStartArray("urls");
                foreach (var u in server.Urls) w.WriteStringValue(u);
                w.WriteEndArray();
                w.WriteString("username", server.Username);
                w.WriteString("credential", server.Credential);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }));
            return true;
        }

        private Task FailAsync(string idJson, string route, LegacyErrno errno, string message)
        {
            // The legacy contract: the request's error reply, then sendErrorNotice, then the disconnect.
            Send(LegacyReply.Reply(idJson, route, errno, message));
            Send(LegacyReply.Notice(LegacyRoutes.ErrorNotice, w => { w.WriteStartObject(); w.WriteString("reason", message); w.WriteEndObject(); }, errno, message));
            _closing = true;
            _outbox.Writer.TryWrite(null);
            return Task.CompletedTask;
        }

        private void Send(byte[] message) => _outbox.Writer.TryWrite(message);

        private async Task SendLoopAsync()
        {
            try
            {
                await foreach (var message in _outbox.Reader.ReadAllAsync(aborted))
                {
                    if (message == null)
                        break;
                    await socket.SendAsync(message, WebSocketMessageType.Text, true, aborted);
                }
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
            finally
            {
                // Wakes the receive loop. Not at once after our close frame: cancelling a receive aborts
                // the connection, and the reset can take the last notices with it; the client's close ends it first.
                if (socket.State == WebSocketState.CloseSent)
                    _cts.CancelAfter(TimeSpan.FromSeconds(1));
                else
                    _cts.Cancel();
            }
        }

        private async Task IdleWatchAsync()
        {
            try
            {
                await Task.Delay(IdleLimit, clock, _cts.Token);
                if (!_active)
                {
                    Send(LegacyReply.Notice(LegacyRoutes.ErrorNotice, null, LegacyErrno.NotLoggedIn, "no call or login within 60 s"));
                    _closing = true;
                    _outbox.Writer.TryWrite(null);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
