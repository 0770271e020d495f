namespace Engine.Rtp.Rtcp;

/// <summary>One SDES item (RFC 3550 §6.5) with the SSRC of the chunk it belongs to. Type 1 is CNAME.</summary>
public readonly ref struct SdesItem
{
    public const byte CnameType = 1;

    public SdesItem(uint ssrc, byte type, ReadOnlySpan<byte> text)
    {
        Ssrc = ssrc;
        Type = type;
        Text = text;
    }

    public uint Ssrc { get; }
    public byte Type { get; }
    /// <summary>UTF-8 text, not NUL-terminated.</summary>
    public ReadOnlySpan<byte> Text { get; }
}
