using Engine.Host.Metrics;
using Engine.Host.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Engine.Host.Http;

/// <summary><c>GET /metrics</c>: the Prometheus text format (0.0.4), always served.</summary>
public sealed partial class HttpFrontend
{
    /// <summary>What /metrics writes; add a source with <c>frontend.Metrics.Add(source)</c>.</summary>
    public MetricsRegistry Metrics { get; } = new();

    /// <summary>The media figures' source (null when the service is not a <see cref="PublishService"/>, as in some tests).</summary>
    public PublishMetrics? MediaMetrics { get; private set; }

    private static void MapMetrics(WebApplication app, HttpFrontend frontend, IPublishService service, Turn.TurnHost? turnServer, Hooks.HookService? hooks)
    {
        frontend.Metrics.Add(new ProcessMetrics());
        if (service is PublishService publish)
        {
            var media = new PublishMetrics(publish);
            frontend.MediaMetrics = media;
            frontend.Metrics.Add(media);
            app.Lifetime.ApplicationStopping.Register(media.Dispose);
        }
        if (turnServer != null)
            frontend.Metrics.Add(new TurnMetrics(turnServer));
        if (hooks != null)
            frontend.Metrics.Add(new HookMetrics(hooks.Counters));
        app.MapGet("/metrics", async ctx =>
        {
            ctx.Response.ContentType = MetricsWriter.ContentType;
            ctx.Response.Headers.CacheControl = "no-store";
            // Straight into the response pipe: nothing is buffered beside it.
            frontend.Metrics.Write(new MetricsWriter(ctx.Response.BodyWriter));
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
        });
    }
}
