namespace Engine.Host.Playback;

/// <summary>A player's offer to receive <see cref="Stream"/>, published here, from WHEP or the legacy WebSocket route.</summary>
public sealed class PlayRequest
{
    public required string Stream { get; init; }
    public required string OfferSdp { get; init; }
    public System.Net.IPAddress? LocalAddress { get; init; }
    /// <summary>"whep" or "ws": shown in /api/streams.</summary>
    public required string Signaling { get; init; }
    /// <summary>sendSdpPull's server_id: picks RTMP2RTPBASEURL_{server_id} for a stream pulled over RTMP.</summary>
    public string? ServerId { get; init; }
    /// <summary>Called once when the player ends for any reason other than the signaling side asking (the publisher left, ICE, DTLS).</summary>
    public Action<string, string>? OnEnded { get; init; }
}
