using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engine.Host.Http;

/// <summary>The stop and the reload on the control plane: new sessions refused while stopping, and the legacy <c>GET /reload</c>.</summary>
public sealed partial class HttpFrontend
{
    /// <summary>Set by the server once started; until then /reload answers 503 and nothing is refused.</summary>
    public ServerLifecycle? Lifecycle { get; set; }

    /// <summary>Before the WebSocket middleware: while stopping, WHIP/WHEP offers get 503 and WebSocket upgrades are refused.</summary>
    private void MapLifecycle(WebApplication app)
    {
        app.Use((ctx, next) =>
        {
            if (Lifecycle is not { IsStopping: true } || !IsNewSession(ctx))
                return next(ctx);
            ctx.Response.Headers.Connection = "close";
            ctx.Response.Headers.RetryAfter = "5";
            return PlainError(ctx, StatusCodes.Status503ServiceUnavailable, "the server is stopping");
        });
        app.MapGet("/reload", Reload);
    }

    // Ahead of UseWebSockets, so the upgrade is told by its header (RFC 6455 §4.1).
    private static bool IsNewSession(HttpContext ctx) =>
        ctx.Request.Headers.Upgrade.Any(u => u != null && u.Contains("websocket", StringComparison.OrdinalIgnoreCase))
        || (HttpMethods.IsPost(ctx.Request.Method) && (ctx.Request.Path.StartsWithSegments("/whip") || ctx.Request.Path.StartsWithSegments("/whep")));

    /// <summary>Legacy <c>/reload</c>: <c>{"ret":1,"errmsg":"","applied":[...],"restart":[...]}</c>; a bad file answers ret 0 and its error, and changes nothing.</summary>
    private async Task Reload(HttpContext ctx)
    {
        if (Lifecycle is not { } lifecycle || lifecycle.IsStopping)
        {
            await PlainError(ctx, StatusCodes.Status503ServiceUnavailable, "the server is starting or stopping");
            return;
        }
        // File I/O and parsing: off the request thread's async path, and never on the media thread.
        var result = await Task.Run(() => lifecycle.Reload("GET /reload"));
        ctx.Response.StatusCode = result.Ok ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest;
        ctx.Response.ContentType = "application/json";
        using var w = new Utf8JsonWriter(ctx.Response.BodyWriter);
        w.WriteStartObject();
        w.WriteNumber("ret", result.Ok ? 1 : 0);
        w.WriteString("errmsg", result.Error ?? "");
        w.WriteStartArray("applied");
        foreach (var k in result.Diff?.Live ?? [])
            w.WriteStringValue(k);
        w.WriteEndArray();
        w.WriteStartArray("restart");
        foreach (var k in result.Diff?.Restart ?? [])
            w.WriteStringValue(k);
        w.WriteEndArray();
        w.WriteEndObject();
        await w.FlushAsync();
    }

    /// <summary>Stops Kestrel within <paramref name="timeout"/>: open connections (WebSockets) are cut then.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await _app.DisposeAsync();
    }
}
