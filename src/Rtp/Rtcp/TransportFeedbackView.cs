using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1), RTPFB FMT 15:
/// <code>
/// |      base sequence number     |      packet status count      |
/// |                 reference time                | fb pkt. count |
/// |          packet chunk         |         packet chunk          |  ...
/// |         packet chunk          |  recv delta   |  recv delta   |  ...  zero padding
/// </code>
/// <see cref="TryRead"/> walks all chunks and checks the recv deltas they announce fit the packet.
/// </summary>
public readonly ref struct TransportFeedbackView
{
    public const int Format = 15;
    internal const int FixedLength = 16; // after the common header: 2 SSRCs + 8 bytes
    internal const int TicksPerReferenceTime = 256; // 64 ms / 250 µs
    public const int DeltaTickMicros = 250;
    public const int ReferenceTimeMicros = 64_000;

    private readonly ReadOnlySpan<byte> _body;
    private readonly int _deltaOffset;

    private TransportFeedbackView(ReadOnlySpan<byte> body, int deltaOffset)
    {
        _body = body;
        _deltaOffset = deltaOffset;
    }

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public uint MediaSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body[4..]);
    public ushort BaseSequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_body[8..]);
    public ushort PacketStatusCount => BinaryPrimitives.ReadUInt16BigEndian(_body[10..]);

    /// <summary>24-bit signed reference time in multiples of 64 ms.</summary>
    public int ReferenceTime => (_body[12] << 24 | _body[13] << 16 | _body[14] << 8) >> 8;

    public byte FeedbackPacketCount => _body[15];

    public int ChunkCount => (_deltaOffset - FixedLength) / 2;

    public Enumerator GetEnumerator() => new(_body, _deltaOffset, PacketStatusCount, BaseSequenceNumber, (long)ReferenceTime * ReferenceTimeMicros);

    public static bool TryRead(RtcpPacketView packet, out TransportFeedbackView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.TransportFeedback || packet.Count != Format || body.Length < FixedLength + 2)
            return false;
        int statusCount = BinaryPrimitives.ReadUInt16BigEndian(body[10..]);
        if (statusCount == 0)
            return false;
        int offset = FixedLength, covered = 0, deltaBytes = 0;
        while (covered < statusCount)
        {
            if (offset + 2 > body.Length)
                return false;
            int chunk = BinaryPrimitives.ReadUInt16BigEndian(body[offset..]);
            offset += 2;
            int remaining = statusCount - covered;
            if ((chunk & 0x8000) == 0)
            {
                int run = Math.Min(chunk & 0x1fff, remaining);
                deltaBytes += run * DeltaSize(chunk >> 13 & 3);
                covered += run;
            }
            else
            {
                bool twoBit = (chunk & 0x4000) != 0;
                int symbols = Math.Min(twoBit ? 7 : 14, remaining);
                for (int i = 0; i < symbols; i++)
                    deltaBytes += DeltaSize(ChunkSymbol(chunk, i));
                covered += symbols;
            }
        }
        if (offset + deltaBytes > body.Length)
            return false;
        view = new TransportFeedbackView(body, offset);
        return true;
    }

    private static int DeltaSize(int symbol) => symbol is 1 or 2 ? symbol : 0;

    /// <summary>The i-th symbol of a status vector chunk (§3.1.4).</summary>
    private static int ChunkSymbol(int chunk, int index) =>
        (chunk & 0x4000) != 0
            ? chunk >> (12 - 2 * index) & 3
            // One-bit vector: 1 = received (small delta), 0 = not received. §3.1.4 text says the
            // opposite, its example 1 and every implementation agree on this way.
            : chunk >> (13 - index) & 1;

    /// <summary>Enumerates every reported packet, received or not, in sequence order.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _body;
        private int _chunkOffset;
        private int _deltaOffset;
        private int _remaining;
        private int _chunk;
        private int _inChunk; // symbols of the current chunk already produced
        private int _chunkSymbols;
        private ushort _sequence;
        private long _arrivalMicros;
        private PacketStatus _current;

        internal Enumerator(ReadOnlySpan<byte> body, int deltaOffset, int statusCount, ushort baseSequence, long referenceMicros)
        {
            _body = body;
            _chunkOffset = FixedLength;
            _deltaOffset = deltaOffset;
            _remaining = statusCount;
            _chunk = 0;
            _inChunk = 0;
            _chunkSymbols = 0;
            _sequence = baseSequence;
            _arrivalMicros = referenceMicros;
            _current = default;
        }

        public readonly PacketStatus Current => _current;

        public bool MoveNext()
        {
            if (_remaining == 0)
                return false;
            while (_inChunk >= _chunkSymbols)
            {
                if (_chunkOffset + 2 > _body.Length)
                    return Stop();
                _chunk = BinaryPrimitives.ReadUInt16BigEndian(_body[_chunkOffset..]);
                _chunkOffset += 2;
                _inChunk = 0;
                _chunkSymbols = (_chunk & 0x8000) == 0 ? _chunk & 0x1fff : (_chunk & 0x4000) != 0 ? 7 : 14;
            }
            int symbol = (_chunk & 0x8000) == 0 ? _chunk >> 13 & 3 : ChunkSymbol(_chunk, _inChunk);
            _inChunk++;
            int delta = 0;
            if (symbol == 1)
            {
                if (_deltaOffset + 1 > _body.Length)
                    return Stop();
                delta = _body[_deltaOffset++];
            }
            else if (symbol == 2)
            {
                if (_deltaOffset + 2 > _body.Length)
                    return Stop();
                delta = BinaryPrimitives.ReadInt16BigEndian(_body[_deltaOffset..]);
                _deltaOffset += 2;
            }
            _arrivalMicros += (long)delta * DeltaTickMicros;
            _current = new PacketStatus(_sequence, (PacketStatusSymbol)symbol, delta, _arrivalMicros);
            _sequence++;
            _remaining--;
            return true;
        }

        private bool Stop()
        {
            _remaining = 0;
            return false;
        }
    }
}
