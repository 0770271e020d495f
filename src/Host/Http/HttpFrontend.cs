using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Engine.Host.Config;
using Engine.Host.Sessions;
using Engine.Host.Signaling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Engine.Host.Http;

/// <summary>
/// The control plane on <c>[BASE] PORT</c>: WHIP (RFC 9725), WHEP (draft-ietf-wish-whep), the legacy WebSocket signaling at
/// <c>/ws</c> (and on <c>[WEBSOCKET] PORT</c> when set), the console and <c>/api/streams</c>.
/// Kestrel does the HTTP; nothing here touches media.
/// </summary>
public sealed partial class HttpFrontend : IAsyncDisposable
{
    public const int MaxSdpBytes = 64 * 1024;
    /// <summary>Kestrel's hard cap; bodies between this and MaxSdpBytes are read and refused with 413, keeping the connection sane.</summary>
    private const int MaxBodyBytes = 1024 * 1024;

    private readonly WebApplication _app;

    private HttpFrontend(WebApplication app) => _app = app;

    /// <summary>The HTTP port actually bound (useful when 0 was asked for).</summary>
    public int Port { get; private set; }
    public int? WebSocketPort { get; private set; }

    public static async Task<HttpFrontend> StartAsync(EngineConfig config, IPublishService service, TurnCredentials turn, TimeProvider clock,
        IPAddress? bindAddress = null, CancellationToken cancellationToken = default, Turn.TurnHost? turnServer = null, Hooks.HookService? hooks = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            k.Limits.MaxConcurrentConnections = Math.Max(16, config.MaxClient * 2);
            foreach (int port in config.WebSocketPort is int ws ? new[] { config.HttpPort, ws } : new[] { config.HttpPort })
            {
                if (bindAddress == null)
                    k.ListenAnyIP(port); // [::] dual-stack, or 0.0.0.0 where IPv6 is off
                else
                    k.Listen(bindAddress, port);
            }
        });
        var app = builder.Build();
        var frontend = new HttpFrontend(app);
        var legacy = new LegacyWebSocketHandler(service, turn, clock, MapHooks(app, config, hooks));

        app.Use(Cors);
        frontend.MapLifecycle(app); // HttpFrontend.Lifecycle.cs: refusals while stopping, /reload
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.Use(async (ctx, next) =>
        {
            // The legacy WebSocket port takes the upgrade on any path, as the old gateway did.
            if (ctx.Connection.LocalPort == frontend.WebSocketPort && ctx.WebSockets.IsWebSocketRequest)
                await legacy.HandleAsync(ctx);
            else
                await next(ctx);
        });
        MapConsole(app);
        app.MapGet("/api/streams", ctx =>
        {
            ctx.Response.ContentType = "application/json";
            using var w = new Utf8JsonWriter(ctx.Response.BodyWriter);
            WriteStreamsWithPlayers(service, w);
            w.Flush();
            return Task.CompletedTask;
        });
        if (turnServer != null)
        {
            app.MapGet("/api/turn", ctx =>
            {
                ctx.Response.ContentType = "application/json";
                using var w = new Utf8JsonWriter(ctx.Response.BodyWriter);
                turnServer.Snapshot().WriteJson(w, turnServer.Listening);
                w.Flush();
                return Task.CompletedTask;
            });
        }
        MapMetrics(app, frontend, service, turnServer, hooks);
        app.Map("/ws", legacy.HandleAsync);
        app.MapPost("/whip/{stream}", ctx => WhipPost(ctx, service));
        app.MapDelete("/whip/{stream}/{id}", ctx => WhipDelete(ctx, service, "WHIP DELETE"));
        app.MapMethods("/whip/{stream}/{id}", new[] { "PATCH" }, ctx =>
        {
            // RFC 9725 §4.3.1: trickle and ICE restart are optional; an ICE-lite server needs neither.
            ctx.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            ctx.Response.Headers.Allow = "DELETE, OPTIONS";
            return Task.CompletedTask;
        });

        app.MapPost("/whep/{stream}", ctx => WhepPost(ctx, service));
        app.MapDelete("/whep/{stream}/{id}", ctx => WhipDelete(ctx, service, "WHEP DELETE"));
        app.MapMethods("/whep/{stream}/{id}", new[] { "PATCH" }, WhepPatch);

        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer)) is Microsoft.AspNetCore.Hosting.Server.IServer server
            ? server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses
            : null;
        var ports = addresses?.Select(a => new Uri(a.Replace("://+", "://localhost").Replace("://*", "://localhost")).Port).ToList() ?? new List<int>();
        frontend.Port = ports.Count > 0 ? ports[0] : config.HttpPort;
        if (config.WebSocketPort != null && ports.Count > 1)
            frontend.WebSocketPort = ports[1];
        return frontend;
    }

    private static Task Cors(HttpContext ctx, RequestDelegate next)
    {
        var h = ctx.Response.Headers;
        h.AccessControlAllowOrigin = "*";
        h.AccessControlExposeHeaders = "Location, Link, ETag";
        if (HttpMethods.IsOptions(ctx.Request.Method))
        {
            h.AccessControlAllowMethods = "GET, POST, DELETE, PATCH, OPTIONS";
            h.AccessControlAllowHeaders = "Content-Type, Authorization, If-Match";
            h.AccessControlMaxAge = "86400";
            if (ctx.Request.Path.StartsWithSegments("/whep") || ctx.Request.Path.StartsWithSegments("/whip"))
                h["Accept-Post"] = "application/sdp";
            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }
        return next(ctx);
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    public static partial Regex StreamName();

    private static async Task WhipPost(HttpContext ctx, IPublishService service)
    {
        string stream = (string)ctx.GetRouteValue("stream")!;
        if (!StreamName().IsMatch(stream))
        {
            await PlainError(ctx, 400, "stream name must be 1-128 characters of A-Z a-z 0-9 _ . -");
            return;
        }
        if (ctx.Request.ContentType is not { } ct || !ct.StartsWith("application/sdp", StringComparison.OrdinalIgnoreCase))
        {
            await PlainError(ctx, 415, "the offer must be sent as Content-Type: application/sdp");
            return;
        }
        string offer;
        try
        {
            offer = await ReadBodyAsync(ctx.Request, MaxSdpBytes);
        }
        catch (InvalidDataException e)
        {
            await PlainError(ctx, 413, e.Message);
            return;
        }
        var outcome = service.Publish(new PublishRequest { Stream = stream, OfferSdp = offer, Signaling = "whip", LocalAddress = ctx.Connection.LocalIpAddress });
        if (!outcome.Succeeded)
        {
            await PlainError(ctx, outcome.Error.HttpStatus(), outcome.Reason);
            return;
        }
        ctx.Response.StatusCode = StatusCodes.Status201Created;
        ctx.Response.Headers.Location = $"/whip/{stream}/{outcome.SessionId}";
        ctx.Response.Headers.ETag = $"\"{outcome.SessionId}\"";
        ctx.Response.ContentType = "application/sdp";
        await ctx.Response.WriteAsync(outcome.AnswerSdp!);
    }

    /// <summary>draft-ietf-wish-whep §4.2: the player POSTs its offer; 201 with the answer and the session URL.</summary>
    private static async Task WhepPost(HttpContext ctx, IPublishService service)
    {
        string stream = (string)ctx.GetRouteValue("stream")!;
        if (!StreamName().IsMatch(stream))
        {
            await PlainError(ctx, 400, "stream name must be 1-128 characters of A-Z a-z 0-9 _ . -");
            return;
        }
        if (ctx.Request.ContentType is not { } ct || !ct.StartsWith("application/sdp", StringComparison.OrdinalIgnoreCase))
        {
            await PlainError(ctx, 415, "the offer must be sent as Content-Type: application/sdp");
            return;
        }
        string offer;
        try
        {
            offer = await ReadBodyAsync(ctx.Request, MaxSdpBytes);
        }
        catch (InvalidDataException e)
        {
            await PlainError(ctx, 413, e.Message);
            return;
        }
        var outcome = service.Play(new Playback.PlayRequest { Stream = stream, OfferSdp = offer, Signaling = "whep", LocalAddress = ctx.Connection.LocalIpAddress });
        if (!outcome.Succeeded)
        {
            await PlainError(ctx, outcome.Error.HttpStatus(), outcome.Reason);
            return;
        }
        ctx.Response.StatusCode = StatusCodes.Status201Created;
        ctx.Response.Headers.Location = $"/whep/{stream}/{outcome.SessionId}";
        ctx.Response.Headers.ETag = $"\"{outcome.SessionId}\"";
        ctx.Response.ContentType = "application/sdp";
        await ctx.Response.WriteAsync(outcome.AnswerSdp!);
    }

    /// <summary>
    /// Trickled candidates are accepted and ignored (204): an ICE-lite server learns the path from
    /// the checks themselves. An ICE restart (a new ufrag) is not served.
    /// </summary>
    private static async Task WhepPatch(HttpContext ctx)
    {
        if (ctx.Request.ContentType is not { } ct || !ct.StartsWith("application/trickle-ice-sdpfrag", StringComparison.OrdinalIgnoreCase))
        {
            await PlainError(ctx, 415, "PATCH takes Content-Type: application/trickle-ice-sdpfrag");
            return;
        }
        try
        {
            await ReadBodyAsync(ctx.Request, MaxSdpBytes);
        }
        catch (InvalidDataException e)
        {
            await PlainError(ctx, 413, e.Message);
            return;
        }
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task WhipDelete(HttpContext ctx, IPublishService service, string reason)
    {
        string id = (string)ctx.GetRouteValue("id")!;
        if (!service.End(id, reason))
            return PlainError(ctx, 404, "no such session");
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    }

    /// <summary>
    /// The service's /api/streams document with each publisher's players listed under it as well
    /// (<c>players</c>: id, signaling, state and their tracks' totals); <c>playback</c> keeps the details.
    /// </summary>
    public static void WriteStreamsWithPlayers(IPublishService service, Utf8JsonWriter w)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var raw = new Utf8JsonWriter(buffer))
            service.WriteStreams(raw);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("playback", out var playback) || playback.ValueKind != JsonValueKind.Array)
        {
            root.WriteTo(w);
            return;
        }
        w.WriteStartObject();
        foreach (var property in root.EnumerateObject())
        {
            if (!property.NameEquals("streams") || property.Value.ValueKind != JsonValueKind.Array)
            {
                property.WriteTo(w);
                continue;
            }
            w.WriteStartArray("streams");
            foreach (var stream in property.Value.EnumerateArray())
            {
                if (stream.ValueKind != JsonValueKind.Object || !stream.TryGetProperty("stream", out var name))
                {
                    stream.WriteTo(w);
                    continue;
                }
                w.WriteStartObject();
                foreach (var p in stream.EnumerateObject())
                    p.WriteTo(w);
                w.WriteStartArray("players");
                foreach (var player in playback.EnumerateArray())
                    if (player.TryGetProperty("stream", out var of) && of.ValueEquals(name.GetString()))
                        WritePlayerSummary(player, w);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WritePlayerSummary(JsonElement player, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        foreach (string key in new[] { "id", "signaling", "state", "remote" })
            if (player.TryGetProperty(key, out var v))
            {
                w.WritePropertyName(key);
                v.WriteTo(w);
            }
        long packets = 0, bytes = 0, retransmissions = 0, nacks = 0, plis = 0;
        if (player.TryGetProperty("tracks", out var tracks) && tracks.ValueKind == JsonValueKind.Array)
            foreach (var t in tracks.EnumerateArray())
            {
                packets += Number(t, "packetsSent");
                bytes += Number(t, "bytesSent");
                retransmissions += Number(t, "retransmissions");
                nacks += Number(t, "nacksReceived");
                plis += Number(t, "plisReceived");
            }
        w.WriteNumber("packetsSent", packets);
        w.WriteNumber("bytesSent", bytes);
        w.WriteNumber("retransmissions", retransmissions);
        w.WriteNumber("nacksReceived", nacks);
        w.WriteNumber("plisReceived", plis);
        w.WriteEndObject();

        static long Number(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.TryGetInt64(out long n) ? n : 0;
    }

    private static Task PlainError(HttpContext ctx, int status, string reason)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        return ctx.Response.WriteAsync(reason + "\n");
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request, int maxBytes)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        bool tooLarge = false;
        try
        {
            while ((n = await request.Body.ReadAsync(buffer)) > 0)
            {
                tooLarge |= ms.Length + n > maxBytes;
                if (!tooLarge)
                    ms.Write(buffer, 0, n);
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            tooLarge = true; // past Kestrel's cap
        }
        if (tooLarge)
            throw new InvalidDataException($"the offer is larger than {maxBytes} bytes");
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
