namespace Engine.Host.Sessions;

/// <summary>A browser's offer to publish <see cref="Stream"/>, from WHIP or the legacy WebSocket route.</summary>
public sealed class PublishRequest
{
    public required string Stream { get; init; }
    public required string OfferSdp { get; init; }
    public bool Record { get; init; }
    /// <summary>The local address the offer arrived on: the host candidate when the config names none.</summary>
    public System.Net.IPAddress? LocalAddress { get; init; }
    /// <summary>"whip" or "ws": shown in /api/streams.</summary>
    public required string Signaling { get; init; }
    /// <summary>Called once when the first media frame arrives (the WS route sends sendStartMediaNotice).</summary>
    public Action<string>? OnMediaStarted { get; init; }
    /// <summary>Called once when the session ends for any reason other than the signaling side asking.</summary>
    public Action<string, string>? OnEnded { get; init; }
}
