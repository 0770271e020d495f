using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Engine.Host.Http;

/// <summary>
/// The console at <c>GET /</c> (<c>Http/Console/</c>: index.html, console.css, console.js), embedded
/// in the binary and served from memory: nothing is loaded from outside the engine.
/// </summary>
public sealed partial class HttpFrontend
{
    private static readonly (string Path, string Resource, string ContentType)[] ConsoleFiles =
    {
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/console.css", "console.css", "text/css; charset=utf-8"),
        ("/console.js", "console.js", "text/javascript; charset=utf-8"),
    };

    private static void MapConsole(WebApplication app)
    {
        foreach (var (path, resource, contentType) in ConsoleFiles)
        {
            byte[] body = ConsoleResource(resource);
            app.MapGet(path, ctx =>
            {
                ctx.Response.ContentType = contentType;
                ctx.Response.Headers.CacheControl = "no-cache";
                ctx.Response.ContentLength = body.Length;
                return ctx.Response.Body.WriteAsync(body).AsTask();
            });
        }
    }

    /// <summary>One of the console's files (EmbeddedResource in Engine.Host.csproj, named <c>Engine.Host.Http.Console.FILE</c>).</summary>
    public static byte[] ConsoleResource(string file)
    {
        using var s = typeof(HttpFrontend).Assembly.GetManifestResourceStream("Engine.Host.Http.Console." + file)
            ?? throw new InvalidOperationException("console resource missing: " + file);
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
