namespace Engine.Rtp.Video;

/// <summary>
/// Reads the RBSP bits of a NAL unit, skipping emulation prevention bytes (H.264 §7.4.1:
/// 0x000003 stands for 0x0000), with Exp-Golomb codes (§9.1). Running past the end sets
/// <see cref="Overrun"/> and yields zeros, so callers check once at the end.
/// </summary>
internal ref struct H264BitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _byte;
    private int _bit; // bits already consumed in _data[_byte], 0..7
    private int _zeros; // consecutive zero bytes just read, to spot 0x03

    public H264BitReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _byte = 0;
        _bit = 0;
        _zeros = 0;
        Overrun = false;
    }

    public bool Overrun { get; private set; }

    public uint ReadBit()
    {
        if (_bit == 0)
        {
            if (_zeros >= 2 && _byte < _data.Length && _data[_byte] == 3)
            {
                _byte++;
                _zeros = 0;
            }
            if (_byte >= _data.Length)
            {
                Overrun = true;
                return 0;
            }
        }
        uint v = (uint)(_data[_byte] >> (7 - _bit)) & 1;
        if (++_bit == 8)
        {
            _zeros = _data[_byte] == 0 ? _zeros + 1 : 0;
            _bit = 0;
            _byte++;
        }
        return v;
    }

    public uint ReadBits(int n)
    {
        uint v = 0;
        for (int i = 0; i < n; i++)
            v = (v << 1) | ReadBit();
        return v;
    }

    /// <summary>ue(v). Codes longer than 32 bits are invalid in an SPS: flagged as overrun.</summary>
    public uint ReadUe()
    {
        int leadingZeros = 0;
        while (ReadBit() == 0)
        {
            if (Overrun || ++leadingZeros > 31)
            {
                Overrun = true;
                return 0;
            }
        }
        return (uint)((1UL << leadingZeros) - 1 + ReadBits(leadingZeros));
    }

    /// <summary>se(v), H.264 §9.1.1.</summary>
    public int ReadSe()
    {
        uint k = ReadUe();
        return (k & 1) != 0 ? (int)((k + 1) / 2) : -(int)(k / 2);
    }
}
