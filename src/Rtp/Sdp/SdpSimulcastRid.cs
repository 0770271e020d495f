namespace Engine.Rtp.Sdp;

/// <summary>One sc-id of an a=simulcast list (RFC 8853 §5.1): a rid, paused when written "~rid".</summary>
public sealed record SdpSimulcastRid(string Rid, bool Paused = false)
{
    public override string ToString() => Paused ? "~" + Rid : Rid;
}
