using Engine.Rtp.Media;

namespace Engine.Host.Peers;

/// <summary>One outgoing stream. Header extensions are the peer's (one BUNDLE transport): see <see cref="PeerConfig"/>.</summary>
public sealed class PeerSendTrack
{
    public string Mid { get; init; } = "";
    public uint Ssrc { get; init; }
    public byte PayloadType { get; init; }
    public MediaCodec Codec { get; init; }
    public int ClockRate { get; init; } = 90_000;
    /// <summary>RTX SSRC and payload type (RFC 4588); null for plain resends.</summary>
    public uint? RtxSsrc { get; init; }
    public byte RtxPayloadType { get; init; }
    /// <summary>
    /// Fed only from a source's shared history (<see cref="Peer.WriteRtp(int, Engine.Rtp.Send.SharedPacketHistory, long, long)"/>):
    /// no own payload slots up front (they come at the first own packet, if ever), ~42 KB of history instead of ~1.4 MB for video.
    /// </summary>
    public bool ForwardOnly { get; init; }
    /// <summary>Packets kept for NACK; 0 picks 1024 for video, 64 for audio.</summary>
    public int HistoryPackets { get; init; }
}
