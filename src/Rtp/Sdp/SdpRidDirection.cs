namespace Engine.Rtp.Sdp;

/// <summary>rid-dir of an a=rid line (RFC 8851 §10).</summary>
public enum SdpRidDirection
{
    Send,
    Recv,
}
