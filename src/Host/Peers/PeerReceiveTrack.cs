using Engine.Rtp.Media;

namespace Engine.Host.Peers;

/// <summary>One incoming stream as negotiated. An SSRC of 0 is learned from the first packet that matches by MID (and RID), else by payload type.</summary>
public sealed class PeerReceiveTrack
{
    public string Mid { get; init; } = "";
    /// <summary>RFC 8852 rtp-stream-id, for simulcast layers under one MID; null when not used.</summary>
    public string? Rid { get; init; }
    public uint Ssrc { get; init; }
    public byte PayloadType { get; init; }
    public MediaCodec Codec { get; init; }
    public int ClockRate { get; init; } = 90_000;
    /// <summary>RFC 4588 RTX payload type; -1 when the track has no RTX.</summary>
    public int RtxPayloadType { get; init; } = -1;
    /// <summary>RTX SSRC if signalled (a=ssrc-group:FID); 0 to learn it.</summary>
    public uint RtxSsrc { get; init; }
    /// <summary>Generic NACK for this track; video by default.</summary>
    public bool? UseNack { get; init; }
    /// <summary>The remote accepts FIR (<c>a=rtcp-fb:* ccm fir</c>): unanswered PLIs escalate to FIR (RFC 5104 §4.3.1).</summary>
    public bool UseFir { get; init; }
}
