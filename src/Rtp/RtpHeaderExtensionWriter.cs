namespace Engine.Rtp;

/// <summary>
/// Appends RFC 8285 extension elements into a caller's buffer; pass <see cref="Written"/> and
/// <see cref="Profile"/> to <see cref="RtpPacket"/>. The one-byte form (§4.2) takes ids 1..14 and
/// 1..16 data bytes; the two-byte form (§4.3) takes ids 1..255 and 0..255 data bytes.
/// </summary>
public ref struct RtpHeaderExtensionWriter
{
    private readonly Span<byte> _buffer;
    private readonly bool _twoByte;
    private int _length;

    public RtpHeaderExtensionWriter(Span<byte> buffer, bool twoByte)
    {
        _buffer = buffer;
        _twoByte = twoByte;
        _length = 0;
    }

    public readonly ushort Profile => _twoByte ? RtpHeaderExtensionEnumerator.TwoByteProfile : RtpHeaderExtensionEnumerator.OneByteProfile;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    public bool TryAdd(int id, ReadOnlySpan<byte> data)
    {
        if (_twoByte)
        {
            if (id is < 1 or > 255 || data.Length > 255 || _length + 2 + data.Length > _buffer.Length)
                return false;
            _buffer[_length] = (byte)id;
            _buffer[_length + 1] = (byte)data.Length;
            data.CopyTo(_buffer[(_length + 2)..]);
            _length += 2 + data.Length;
            return true;
        }
        if (id is < 1 or > 14 || data.Length is < 1 or > 16 || _length + 1 + data.Length > _buffer.Length)
            return false;
        _buffer[_length] = (byte)((id << 4) | (data.Length - 1));
        data.CopyTo(_buffer[(_length + 1)..]);
        _length += 1 + data.Length;
        return true;
    }
}
