using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Generic NACK (RFC 4585 §6.2.1), RTPFB FMT 1: after the feedback SSRCs, FCI items of a 16-bit
/// PID (a lost sequence number) and a 16-bit BLP (bit i set: PID+i+1 lost too).
/// </summary>
public readonly ref struct GenericNackView
{
    public const int Format = 1;

    private readonly ReadOnlySpan<byte> _body;

    private GenericNackView(ReadOnlySpan<byte> body) => _body = body;

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public uint MediaSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body[4..]);
    public int ItemCount => (_body.Length - 8) / 4;

    public ushort GetPacketId(int index) => BinaryPrimitives.ReadUInt16BigEndian(_body[(8 + 4 * index)..]);
    public ushort GetBitmaskOfLostPackets(int index) => BinaryPrimitives.ReadUInt16BigEndian(_body[(10 + 4 * index)..]);

    /// <summary>Every sequence number the NACK reports lost, in wire order.</summary>
    public LostEnumerator LostSequenceNumbers => new(_body[8..]);

    public static bool TryRead(RtcpPacketView packet, out GenericNackView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.TransportFeedback || packet.Count != Format || body.Length < 12 || body.Length % 4 != 0)
            return false;
        view = new GenericNackView(body);
        return true;
    }

    public ref struct LostEnumerator
    {
        private readonly ReadOnlySpan<byte> _items;
        private int _offset;
        private int _bit; // -1: the PID itself; 0..15: BLP bits
        private ushort _current;

        internal LostEnumerator(ReadOnlySpan<byte> items)
        {
            _items = items;
            _offset = 0;
            _bit = -1;
            _current = 0;
        }

        public readonly ushort Current => _current;

        public readonly LostEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_offset + 4 <= _items.Length)
            {
                ushort pid = BinaryPrimitives.ReadUInt16BigEndian(_items[_offset..]);
                if (_bit == -1)
                {
                    _bit = 0;
                    _current = pid;
                    return true;
                }
                ushort blp = BinaryPrimitives.ReadUInt16BigEndian(_items[(_offset + 2)..]);
                while (_bit < 16)
                {
                    int bit = _bit++;
                    if ((blp & (1 << bit)) != 0)
                    {
                        _current = (ushort)(pid + bit + 1);
                        return true;
                    }
                }
                _offset += 4;
                _bit = -1;
            }
            return false;
        }
    }
}
