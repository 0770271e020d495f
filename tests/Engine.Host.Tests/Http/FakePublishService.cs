using System.Collections.Concurrent;
using System.Text.Json;
using Engine.Host.Sessions;

namespace Engine.Host.Tests.Http;

/// <summary>A session layer that answers with a canned SDP, to test the signaling front-ends alone.</summary>
internal sealed class FakePublishService : IPublishService
{
    public const string Answer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    public PublishError NextError { get; set; }
    public ConcurrentDictionary<string, PublishRequest> Sessions { get; } = new();
    public ConcurrentQueue<(string Id, string Reason)> Ended { get; } = new();
    private int _next;

    public PublishOutcome Publish(PublishRequest request)
    {
        if (NextError != PublishError.None)
            return PublishOutcome.Fail(NextError, "refused by the fake: " + NextError);
        string id = "s" + Interlocked.Increment(ref _next);
        Sessions[id] = request;
        return PublishOutcome.Ok(id, Answer, "rtmp://127.0.0.1/live/" + request.Stream);
    }

    public ConcurrentDictionary<string, Engine.Host.Playback.PlayRequest> Players { get; } = new();

    /// <summary>Streams the fake says are published: playback of any other is refused with NoSuchStream.</summary>
    public HashSet<string> Published { get; } = new(StringComparer.Ordinal) { "cam1" };

    public PublishOutcome Play(Engine.Host.Playback.PlayRequest request)
    {
        if (NextError != PublishError.None)
            return PublishOutcome.Fail(NextError, "refused by the fake: " + NextError);
        if (!Published.Contains(request.Stream))
            return PublishOutcome.Fail(PublishError.NoSuchStream, $"stream '{request.Stream}' is not being published here");
        string id = "p" + Interlocked.Increment(ref _next);
        Players[id] = request;
        return PublishOutcome.Ok(id, Answer, null);
    }

    public PublishOutcome Update(string sessionId, string sdp) =>
        Sessions.ContainsKey(sessionId) ? PublishOutcome.Ok(sessionId, Answer, null) : PublishOutcome.Fail(PublishError.Internal, "gone");

    public bool End(string sessionId, string reason)
    {
        if (!Sessions.TryRemove(sessionId, out _) && !Players.TryRemove(sessionId, out _))
            return false;
        Ended.Enqueue((sessionId, reason));
        return true;
    }

    public void WriteStreams(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("sessions", Sessions.Count);
        w.WriteEndObject();
    }
}
