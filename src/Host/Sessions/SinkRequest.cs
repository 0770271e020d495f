using Engine.Rtp.Media;

namespace Engine.Host.Sessions;

/// <summary>What a frame sink is created for: one publish session's stream and its negotiated tracks.</summary>
public sealed record SinkRequest(string Stream, string SessionId, bool Record, IReadOnlyList<TrackInfo> Tracks);
