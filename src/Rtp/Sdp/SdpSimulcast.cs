namespace Engine.Rtp.Sdp;

/// <summary>An a=simulcast line (RFC 8853 §5.1). Each list holds the streams in order of
/// preference; each stream is a list of alternative rids (the ","-separated sc-alt-list).</summary>
public sealed class SdpSimulcast
{
    public List<List<SdpSimulcastRid>> Send { get; } = new();

    public List<List<SdpSimulcastRid>> Recv { get; } = new();
}
