namespace Engine.Srtp;

/// <summary>Per-SSRC state of one direction: SRTP index and window, SRTCP window and send index.</summary>
internal struct SrtpStreamState
{
    public uint Ssrc;
    public ReplayWindow Rtp;
    public ReplayWindow Rtcp;
    public uint NextRtcpIndex;
}
