namespace Engine.Rtp;

/// <summary>
/// Walks RFC 8285 header extension elements without allocating. One-byte form (§4.2, profile
/// 0xBEDE): 4-bit id, 4-bit length-1. Two-byte form (§4.3, profile 0x100X): 8-bit id, 8-bit length.
/// Padding bytes (id 0) are skipped; in the one-byte form id 15 ends the block.
/// </summary>
public ref struct RtpHeaderExtensionEnumerator
{
    public const ushort OneByteProfile = 0xBEDE;
    public const ushort TwoByteProfile = 0x1000;

    private readonly ReadOnlySpan<byte> _block;
    private readonly bool _twoByte;
    private int _offset;
    private RtpHeaderExtension _current;

    public RtpHeaderExtensionEnumerator(ushort profile, ReadOnlySpan<byte> block)
    {
        _twoByte = IsTwoByte(profile);
        // Unknown profiles carry opaque data we do not interpret.
        _block = profile == OneByteProfile || _twoByte ? block : default;
        _offset = 0;
        _current = default;
    }

    public static bool IsTwoByte(ushort profile) => (profile & 0xfff0) == TwoByteProfile;

    public readonly RtpHeaderExtension Current => _current;

    public readonly RtpHeaderExtensionEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        while (_offset < _block.Length)
        {
            int id, length, dataStart;
            if (_twoByte)
            {
                id = _block[_offset];
                if (id == 0) { _offset++; continue; }
                if (_offset + 2 > _block.Length) return Stop();
                length = _block[_offset + 1];
                dataStart = _offset + 2;
            }
            else
            {
                byte b = _block[_offset];
                if (b == 0) { _offset++; continue; }
                id = b >> 4;
                // RFC 8285 §4.2: id 15 is reserved; stop processing the whole block.
                if (id == 15) return Stop();
                if (id == 0) { _offset++; continue; }
                length = (b & 0x0f) + 1;
                dataStart = _offset + 1;
            }
            if (dataStart + length > _block.Length) return Stop();
            _current = new RtpHeaderExtension(id, _block.Slice(dataStart, length));
            _offset = dataStart + length;
            return true;
        }
        return false;
    }

    private bool Stop()
    {
        _offset = _block.Length;
        return false;
    }

    /// <summary>False when an element's length runs past the block.</summary>
    internal static bool IsWellFormed(ushort profile, ReadOnlySpan<byte> block)
    {
        bool twoByte = IsTwoByte(profile);
        if (profile != OneByteProfile && !twoByte)
            return true;
        int offset = 0;
        while (offset < block.Length)
        {
            byte b = block[offset];
            if (b == 0) { offset++; continue; }
            if (twoByte)
            {
                if (offset + 2 > block.Length) return false;
                offset += 2 + block[offset + 1];
            }
            else
            {
                if (b >> 4 == 15) return true;
                offset += b >> 4 == 0 ? 1 : 2 + (b & 0x0f);
            }
            if (offset > block.Length) return false;
        }
        return true;
    }
}
