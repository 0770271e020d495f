using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// RTCP XR (RFC 3611 §2): the sender's SSRC, then report blocks of BT (8 bits), type-specific
/// (8), block length (16, in 32-bit words after this 4-byte block header). Understood blocks:
/// RRTR (BT 4, §4.4) and DLRR (BT 5, §4.5); any other block is skipped.
/// </summary>
public readonly ref struct ExtendedReportView
{
    public const byte RrtrBlockType = 4;
    public const byte DlrrBlockType = 5;

    private readonly ReadOnlySpan<byte> _body;

    private ExtendedReportView(ReadOnlySpan<byte> body) => _body = body;

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    /// <summary>The NTP timestamp of the first RRTR block.</summary>
    public bool TryGetRrtr(out ulong ntpTimestamp)
    {
        for (int offset = 4; offset + 4 <= _body.Length;)
        {
            int end = offset + 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(_body[(offset + 2)..]);
            if (_body[offset] == RrtrBlockType && end - offset == 12)
            {
                ntpTimestamp = BinaryPrimitives.ReadUInt64BigEndian(_body[(offset + 4)..]);
                return true;
            }
            offset = end;
        }
        ntpTimestamp = 0;
        return false;
    }

    /// <summary>The sub-blocks of every DLRR block, in order.</summary>
    public DlrrEnumerator DlrrSubBlocks => new(_body);

    public static bool TryRead(RtcpPacketView packet, out ExtendedReportView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.ExtendedReport || body.Length < 4)
            return false;
        int offset = 4;
        while (offset < body.Length)
        {
            if (offset + 4 > body.Length)
                return false;
            int blockLength = 4 * BinaryPrimitives.ReadUInt16BigEndian(body[(offset + 2)..]);
            byte type = body[offset];
            if (type == RrtrBlockType && blockLength != 8)
                return false;
            if (type == DlrrBlockType && blockLength % DlrrSubBlock.Length != 0)
                return false;
            offset += 4 + blockLength;
        }
        if (offset != body.Length)
            return false;
        view = new ExtendedReportView(body);
        return true;
    }

    public ref struct DlrrEnumerator
    {
        private readonly ReadOnlySpan<byte> _body;
        private int _blockOffset;
        private int _subOffset;
        private int _blockEnd;
        private DlrrSubBlock _current;

        internal DlrrEnumerator(ReadOnlySpan<byte> body)
        {
            _body = body;
            _blockOffset = 4;
            _subOffset = 0;
            _blockEnd = 0;
            _current = default;
        }

        public readonly DlrrSubBlock Current => _current;

        public readonly DlrrEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (true)
            {
                if (_subOffset + DlrrSubBlock.Length <= _blockEnd)
                {
                    _current = DlrrSubBlock.Read(_body.Slice(_subOffset, DlrrSubBlock.Length));
                    _subOffset += DlrrSubBlock.Length;
                    return true;
                }
                if (_blockOffset + 4 > _body.Length)
                    return false;
                int end = Math.Min(_body.Length, _blockOffset + 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(_body[(_blockOffset + 2)..]));
                if (_body[_blockOffset] == DlrrBlockType)
                {
                    _subOffset = _blockOffset + 4;
                    _blockEnd = end;
                }
                _blockOffset = end;
            }
        }
    }
}
