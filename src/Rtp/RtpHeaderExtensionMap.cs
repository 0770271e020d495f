namespace Engine.Rtp;

/// <summary>
/// Local extension id (1..255, RFC 8285 §5) to <see cref="RtpExtensionKind"/>, filled once per
/// session from the SDP a=extmap lines; lookups on the packet path are an array index.
/// </summary>
public sealed class RtpHeaderExtensionMap
{
    private readonly RtpExtensionKind[] _kindById = new RtpExtensionKind[256];
    private readonly byte[] _idByKind = new byte[256];

    /// <summary>Maps <paramref name="id"/> to the kind named by <paramref name="uri"/>; false for an id out of range or an unknown URI.</summary>
    public bool Register(int id, string uri) => Register(id, RtpExtensionUris.KindOf(uri));

    public bool Register(int id, RtpExtensionKind kind)
    {
        if (id is < 1 or > 255 || kind == RtpExtensionKind.Unknown)
            return false;
        var previous = _kindById[id];
        if (previous != RtpExtensionKind.Unknown && _idByKind[(int)previous] == id)
            _idByKind[(int)previous] = 0;
        _kindById[id] = kind;
        _idByKind[(int)kind] = (byte)id;
        return true;
    }

    public RtpExtensionKind GetKind(int id) => (uint)id < 256 ? _kindById[id] : RtpExtensionKind.Unknown;

    /// <summary>The id negotiated for <paramref name="kind"/>, for writing; false when not negotiated.</summary>
    public bool TryGetId(RtpExtensionKind kind, out int id)
    {
        id = _idByKind[(int)kind];
        return id != 0;
    }
}
