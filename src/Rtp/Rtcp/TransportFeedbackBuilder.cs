using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Collects (transport-wide sequence number, arrival time) pairs and writes transport-wide CC
/// feedback packets (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). Storage is
/// allocated once; adding and writing allocate nothing. A packet ends early when the next
/// report would pass the size limit, the status count would pass 0xffff, or a recv delta
/// would not fit 16 bits (§3.1.5: "a new feedback message must be used"); the rest stays
/// pending for the next <see cref="Write"/>.
/// </summary>
public sealed class TransportFeedbackBuilder
{
    private const int HeaderLength = RtcpPacketView.HeaderLength + TransportFeedbackView.FixedLength;

    private readonly long[] _sequenceNumbers;
    private readonly long[] _arrivalMicros;
    private readonly byte[] _deltas;
    private int _count;
    private byte _feedbackPacketCount;
    // The sequence after the last one reported: the next packet starts there so the packets lost
    // between two reports are reported lost (a sender's loss estimate counts on it).
    private long _nextBase = long.MinValue;
    private const long MaxLeadingGap = 0x4000;

    /// <param name="capacity">Most packets held between writes.</param>
    /// <param name="maxPacketSize">Largest feedback packet to write, in bytes.</param>
    public TransportFeedbackBuilder(int capacity = 1024, int maxPacketSize = 1200)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPacketSize, HeaderLength + 4);
        _sequenceNumbers = new long[capacity];
        _arrivalMicros = new long[capacity];
        _deltas = new byte[maxPacketSize];
        MaxPacketSize = maxPacketSize & ~3;
    }

    public int MaxPacketSize { get; }
    public int PendingCount => _count;
    /// <summary>Packets refused because the storage was full.</summary>
    public long DroppedFull { get; private set; }
    /// <summary>Packets refused because that sequence number was already pending.</summary>
    public long DroppedDuplicate { get; private set; }
    /// <summary>Packets refused because a sent report already covered their sequence number (reported lost).</summary>
    public long DroppedLate { get; private set; }

    /// <summary>Records a received packet; <paramref name="sequenceNumber"/> is unwrapped (see <see cref="SeqNoUnwrapper"/>).</summary>
    public bool AddReceivedPacket(long sequenceNumber, long arrivalMicros)
    {
        if (sequenceNumber < _nextBase)
        {
            DroppedLate++;
            return false;
        }
        // Keep storage sorted; packets arrive nearly in order, so the scan is short.
        int i = _count;
        while (i > 0 && _sequenceNumbers[i - 1] > sequenceNumber)
            i--;
        if (i > 0 && _sequenceNumbers[i - 1] == sequenceNumber)
        {
            DroppedDuplicate++;
            return false;
        }
        if (_count == _sequenceNumbers.Length)
        {
            DroppedFull++;
            return false;
        }
        if (i < _count)
        {
            Array.Copy(_sequenceNumbers, i, _sequenceNumbers, i + 1, _count - i);
            Array.Copy(_arrivalMicros, i, _arrivalMicros, i + 1, _count - i);
        }
        _sequenceNumbers[i] = sequenceNumber;
        _arrivalMicros[i] = arrivalMicros;
        _count++;
        return true;
    }

    /// <summary>
    /// Writes one feedback packet covering the oldest pending packets and removes them. Returns
    /// its length, or 0 when nothing is pending or <paramref name="destination"/> is under 24 bytes.
    /// </summary>
    public int Write(Span<byte> destination, uint senderSsrc, uint mediaSsrc)
    {
        int limit = Math.Min(destination.Length, MaxPacketSize) & ~3;
        if (_count == 0 || limit < HeaderLength + 4)
            return 0;
        long baseSequence = _sequenceNumbers[0];
        if (_nextBase != long.MinValue && baseSequence - _nextBase is > 0 and <= MaxLeadingGap)
            baseSequence = _nextBase;
        long referenceTime = FloorDiv(_arrivalMicros[0], TransportFeedbackView.ReferenceTimeMicros);
        long previousTicks = referenceTime * TransportFeedbackView.TicksPerReferenceTime;
        var encoder = new PacketStatusChunkEncoder(destination[HeaderLength..limit]);
        int deltaLength = 0, included = 0, statusCount = 0;
        for (; included < _count; included++)
        {
            long gap = _sequenceNumbers[included] - (baseSequence + statusCount);
            if (statusCount + gap + 1 > 0xffff)
                break;
            long ticks = FloorDiv(_arrivalMicros[included], TransportFeedbackView.DeltaTickMicros);
            long delta = ticks - previousTicks;
            PacketStatusSymbol symbol;
            int deltaSize;
            if (delta is >= 0 and <= byte.MaxValue)
                (symbol, deltaSize) = (PacketStatusSymbol.ReceivedSmallDelta, 1);
            else if (delta is >= short.MinValue and <= short.MaxValue)
                (symbol, deltaSize) = (PacketStatusSymbol.ReceivedLargeDelta, 2);
            else
                break;
            var snapshot = encoder;
            encoder.Add(PacketStatusSymbol.NotReceived, (int)gap);
            encoder.Add(symbol, 1);
            int size = HeaderLength + 2 * encoder.ChunkCountAfterFlush + deltaLength + deltaSize;
            if (encoder.Overflowed || ((size + 3) & ~3) > limit)
            {
                encoder = snapshot;
                break;
            }
            if (deltaSize == 1)
                _deltas[deltaLength] = (byte)delta;
            else
                BinaryPrimitives.WriteInt16BigEndian(_deltas.AsSpan(deltaLength), (short)delta);
            deltaLength += deltaSize;
            previousTicks = ticks;
            statusCount += (int)gap + 1;
        }
        encoder.Flush();
        int deltaOffset = HeaderLength + 2 * encoder.ChunkCount;
        int length = (deltaOffset + deltaLength + 3) & ~3;
        RtcpPacketView.WriteFeedbackHeader(destination, TransportFeedbackView.Format, RtcpPacketType.TransportFeedback, length, senderSsrc, mediaSsrc);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], (ushort)baseSequence);
        BinaryPrimitives.WriteUInt16BigEndian(destination[14..], (ushort)statusCount);
        destination[16] = (byte)(referenceTime >> 16);
        destination[17] = (byte)(referenceTime >> 8);
        destination[18] = (byte)referenceTime;
        destination[19] = _feedbackPacketCount++;
        _deltas.AsSpan(0, deltaLength).CopyTo(destination[deltaOffset..]);
        // Zero padding to the 32-bit boundary, as the draft's diagram shows (no P bit).
        destination[(deltaOffset + deltaLength)..length].Clear();
        Array.Copy(_sequenceNumbers, included, _sequenceNumbers, 0, _count - included);
        Array.Copy(_arrivalMicros, included, _arrivalMicros, 0, _count - included);
        _count -= included;
        _nextBase = baseSequence + statusCount;
        return length;
    }

    private static long FloorDiv(long value, long divisor) => value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);
}
