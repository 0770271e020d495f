using System.Text.Json;

namespace Engine.Host.Sessions;

/// <summary>What the signaling front-ends (WHIP, WebSocket) need from the session layer.</summary>
public interface IPublishService
{
    PublishOutcome Publish(PublishRequest request);

    /// <summary>Plays a stream published here to a player (WHEP, legacy sendSdpPull).</summary>
    PublishOutcome Play(Playback.PlayRequest request) => PublishOutcome.Fail(PublishError.Internal, "playback is not served");

    /// <summary>Re-applies a full SDP to a live session (legacy sendSdpUpdate).</summary>
    PublishOutcome Update(string sessionId, string sdp);

    /// <summary>Ends a session the signaling side owns; false if there is none with that id.</summary>
    bool End(string sessionId, string reason);

    /// <summary>Writes the /api/streams document.</summary>
    void WriteStreams(Utf8JsonWriter writer);
}
