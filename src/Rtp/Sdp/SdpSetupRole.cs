namespace Engine.Rtp.Sdp;

/// <summary>The a=setup role (RFC 4145 §4, used by DTLS-SRTP per RFC 5763 §5).
/// <see cref="None"/> means the attribute is absent.</summary>
public enum SdpSetupRole
{
    None,
    Active,
    Passive,
    ActPass,
    HoldConn,
}
