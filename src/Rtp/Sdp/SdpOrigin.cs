namespace Engine.Rtp.Sdp;

/// <summary>The o= line (RFC 8866 §5.2). Ids stay strings: they are 1*DIGIT of any length and
/// only ever compared or echoed.</summary>
public sealed record SdpOrigin(string Username, string SessionId, string SessionVersion, string NetType, string AddressType, string Address)
{
    public override string ToString() => $"o={Username} {SessionId} {SessionVersion} {NetType} {AddressType} {Address}";
}
