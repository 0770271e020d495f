using System.Text.Json;
using Engine.Host.Config;
using Engine.Host.Hooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engine.Host.Http;

/// <summary>The legacy gateway's internal routes for the back-end: the online list, kicking a user, the sync.</summary>
public sealed partial class HttpFrontend
{
    /// <summary>Maps /getonlineusers, /kickuser and /synconlineusers and starts the hooks (the start-up sync); returns the service the WebSocket uses.</summary>
    private static HookService MapHooks(WebApplication app, EngineConfig config, HookService? hooks)
    {
        // Without one from the caller (tests): no URLs unless the config has them, logins accepted locally.
        hooks ??= new HookService(config);
        var service = hooks;
        string[] methods = { "GET", "POST" };
        app.MapMethods("/getonlineusers", methods, ctx =>
        {
            var users = service.Online.UserIds();
            return WriteJson(ctx, w =>
            {
                w.WriteNumber("ret", 1);
                w.WriteString("errmsg", "");
                w.WriteNumber("count", users.Count);
                w.WriteStartArray("userlist");
                foreach (var u in users)
                    w.WriteStringValue(u);
                w.WriteEndArray();
            });
        });
        app.MapMethods("/kickuser", methods, ctx =>
        {
            string? userId = ctx.Request.Query["userId"];
            if (string.IsNullOrEmpty(userId))
                return WriteJson(ctx, w => { w.WriteNumber("ret", 0); w.WriteString("errmsg", "userId is required"); });
            int kicked = service.Kick(userId);
            return WriteJson(ctx, w =>
            {
                w.WriteNumber("ret", kicked > 0 ? 1 : 0);
                w.WriteString("errmsg", kicked > 0 ? "" : "user is not online");
                w.WriteNumber("count", kicked);
            });
        });
        app.MapMethods("/synconlineusers", methods, ctx =>
        {
            var start = service.RequestSync();
            return WriteJson(ctx, w =>
            {
                w.WriteNumber("ret", start == SyncStart.NoUrl ? 0 : 1);
                w.WriteString("errmsg", start switch
                {
                    SyncStart.NoUrl => "no [EXT] EXTSYNCPATH configured",
                    SyncStart.Deferred => $"deferred: at most one sync every {HookOptionsInterval(service)} s",
                    SyncStart.Pending => "a sync is already in flight",
                    _ => "",
                });
                w.WriteString("sync", start.ToString().ToLowerInvariant());
            });
        });
        hooks.Start();
        return hooks;
    }

    private static string HookOptionsInterval(HookService service) => service.SyncInterval.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    private static Task WriteJson(HttpContext ctx, Action<Utf8JsonWriter> members)
    {
        ctx.Response.ContentType = "application/json";
        using var w = new Utf8JsonWriter(ctx.Response.BodyWriter);
        w.WriteStartObject();
        members(w);
        w.WriteEndObject();
        w.Flush();
        return Task.CompletedTask;
    }
}
