namespace Engine.Rtp.Sdp;

/// <summary>Media direction attribute (RFC 8866 §6.7). <see cref="None"/> means no attribute was
/// present, which RFC 8866 §6.7 says to read as sendrecv.</summary>
public enum SdpDirection
{
    None,
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}
