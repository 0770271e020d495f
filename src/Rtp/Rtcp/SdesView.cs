using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// SDES (RFC 3550 §6.5): SC chunks, each an SSRC followed by items (type, length, text) ended by
/// a zero octet and zero padding to the next 32-bit boundary. <see cref="TryRead"/> walks every
/// chunk so enumeration needs no further checks.
/// </summary>
public readonly ref struct SdesView
{
    private readonly ReadOnlySpan<byte> _body;

    private SdesView(ReadOnlySpan<byte> body, int chunkCount)
    {
        _body = body;
        ChunkCount = chunkCount;
    }

    public int ChunkCount { get; }

    public Enumerator GetEnumerator() => new(_body, ChunkCount);

    /// <summary>The first CNAME item of the packet.</summary>
    public bool TryGetCname(out uint ssrc, out ReadOnlySpan<byte> cname)
    {
        foreach (var item in this)
        {
            if (item.Type == SdesItem.CnameType)
            {
                ssrc = item.Ssrc;
                cname = item.Text;
                return true;
            }
        }
        ssrc = 0;
        cname = default;
        return false;
    }

    public static bool TryRead(RtcpPacketView packet, out SdesView view)
    {
        view = default;
        if (packet.PacketType != RtcpPacketType.SourceDescription)
            return false;
        var body = packet.Body;
        int offset = 0;
        for (int chunk = 0; chunk < packet.Count; chunk++)
        {
            if (offset + 4 > body.Length)
                return false;
            offset += 4;
            while (true)
            {
                if (offset >= body.Length)
                    return false;
                if (body[offset] == 0)
                {
                    offset = (offset + 4) & ~3;
                    break;
                }
                if (offset + 2 > body.Length || offset + 2 + body[offset + 1] > body.Length)
                    return false;
                offset += 2 + body[offset + 1];
            }
            if (offset > body.Length)
                return false;
        }
        view = new SdesView(body, packet.Count);
        return true;
    }

    /// <summary>Enumerates items of all chunks in order.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _body;
        private int _chunksLeft;
        private int _offset;
        private uint _ssrc;
        private bool _inChunk;
        private SdesItem _current;

        internal Enumerator(ReadOnlySpan<byte> body, int chunkCount)
        {
            _body = body;
            _chunksLeft = chunkCount;
            _offset = 0;
            _ssrc = 0;
            _inChunk = false;
            _current = default;
        }

        public readonly SdesItem Current => _current;

        public bool MoveNext()
        {
            while (true)
            {
                if (!_inChunk)
                {
                    if (_chunksLeft == 0 || _offset + 4 > _body.Length)
                        return false;
                    _chunksLeft--;
                    _ssrc = BinaryPrimitives.ReadUInt32BigEndian(_body[_offset..]);
                    _offset += 4;
                    _inChunk = true;
                }
                if (_offset >= _body.Length)
                    return false;
                byte type = _body[_offset];
                if (type == 0)
                {
                    _offset = (_offset + 4) & ~3;
                    _inChunk = false;
                    continue;
                }
                if (_offset + 2 > _body.Length)
                    return false;
                int length = _body[_offset + 1];
                if (_offset + 2 + length > _body.Length)
                    return false;
                _current = new SdesItem(_ssrc, type, _body.Slice(_offset + 2, length));
                _offset += 2 + length;
                return true;
            }
        }
    }
}
