using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Engine.Host.Tests.Hooks;

/// <summary>An in-process back-end for <see cref="Engine.Host.Hooks.HookClient"/>: records each request and answers with <see cref="Reply"/>.</summary>
internal sealed class FakeBackEnd : HttpMessageHandler
{
    public ConcurrentQueue<(string Path, JsonElement Body)> Requests { get; } = new();

    /// <summary>Answers a request (path, body); may throw HttpRequestException to play a refused connection, or wait on the token.</summary>
    public Func<string, JsonElement, CancellationToken, Task<(HttpStatusCode, string)>> Reply { get; set; } =
        (_, _, _) => Task.FromResult((HttpStatusCode.OK, """{"ret":1}"""));

    private int _inFlight, _maxInFlight;
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public List<JsonElement> BodiesTo(string path) => Requests.Where(r => r.Path == path).Select(r => r.Body).ToList();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var text = await request.Content!.ReadAsStringAsync(cancellationToken);
        Assert.Equal("application/json", request.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpMethod.Post, request.Method);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        string path = request.RequestUri!.AbsolutePath;
        Requests.Enqueue((path, body));
        int now = Interlocked.Increment(ref _inFlight);
        int max;
        while ((max = Volatile.Read(ref _maxInFlight)) < now && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }
        try
        {
            var (status, reply) = await Reply(path, body, cancellationToken);
            return new HttpResponseMessage(status) { Content = new StringContent(reply, Encoding.UTF8, "application/json") };
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, at most 10 s.</summary>
    public static async Task<bool> Until(Func<bool> condition, int timeoutMs = 10_000)
    {
        for (int waited = 0; waited < timeoutMs; waited += 20)
        {
            if (condition())
                return true;
            await Task.Delay(20);
        }
        return condition();
    }
}
