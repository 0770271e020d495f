namespace Engine.Rtp.Rtcp;

/// <summary>
/// A compound RTCP packet (RFC 3550 §6.1): RTCP packets back to back whose lengths add up to the
/// datagram exactly. <see cref="TryRead"/> validates every header first, so enumeration never
/// meets a bad length. Unknown packet types are enumerated like any other; callers skip them.
/// With rtcp-rsize (RFC 5506 §3) a datagram may hold a single packet of any type, so the
/// "first packet is SR or RR" rule of RFC 3550 §6.1 is reported, not enforced.
/// </summary>
public readonly ref struct RtcpCompound
{
    private readonly ReadOnlySpan<byte> _data;

    private RtcpCompound(ReadOnlySpan<byte> data, int packetCount)
    {
        _data = data;
        PacketCount = packetCount;
    }

    public int PacketCount { get; }

    /// <summary>True when the first packet is not SR/RR: a reduced-size packet (RFC 5506 §3).</summary>
    public bool IsReducedSize => !_data.IsEmpty && _data[1] is not ((byte)RtcpPacketType.SenderReport or (byte)RtcpPacketType.ReceiverReport);

    public static bool TryRead(ReadOnlySpan<byte> data, out RtcpCompound compound)
    {
        compound = default;
        if (data.IsEmpty)
            return false;
        int offset = 0, count = 0;
        while (offset < data.Length)
        {
            if (!RtcpPacketView.TryRead(data[offset..], out _, out int length))
                return false;
            offset += length;
            count++;
        }
        compound = new RtcpCompound(data, count);
        return true;
    }

    public Enumerator GetEnumerator() => new(_data);

    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _offset;
        private RtcpPacketView _current;

        internal Enumerator(ReadOnlySpan<byte> data)
        {
            _data = data;
            _offset = 0;
            _current = default;
        }

        public readonly RtcpPacketView Current => _current;

        public bool MoveNext()
        {
            if (_offset >= _data.Length || !RtcpPacketView.TryRead(_data[_offset..], out _current, out int length))
                return false;
            _offset += length;
            return true;
        }
    }
}
