using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>Walks the NAL units of an AVCC buffer (4-byte lengths); stops at the first length that overruns.</summary>
public ref struct H264NalEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public H264NalEnumerator(ReadOnlySpan<byte> avcc)
    {
        _rest = avcc;
        Current = default;
    }

    public ReadOnlySpan<byte> Current { get; private set; }

    public bool MoveNext()
    {
        if (_rest.Length < 4)
            return false;
        uint len = BinaryPrimitives.ReadUInt32BigEndian(_rest);
        if (len == 0 || len > (uint)(_rest.Length - 4))
            return false;
        Current = _rest.Slice(4, (int)len);
        _rest = _rest[(4 + (int)len)..];
        return true;
    }

    public H264NalEnumerator GetEnumerator() => this;
}
