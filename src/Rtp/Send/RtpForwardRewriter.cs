using System.Buffers.Binary;

namespace Engine.Rtp.Send;

/// <summary>
/// Forwards relayed RTP (VP8, VP9, H.264, Opus: the payload is kept as it is) to one output with
/// that output's SSRC, sequence numbers and timestamps: per-output offsets, starting at a random
/// sequence number and timestamp (RFC 3550 §5.1), so a player sees one continuous stream even
/// when the source changes SSRC (a publisher reconnects, a layer switch). Rewrites the fixed
/// header in place; allocates nothing.
/// </summary>
public sealed class RtpForwardRewriter
{
    private readonly int _clockRate;
    private SeqNoUnwrapper _inSeq;
    private bool _started;
    private uint _inSsrc;
    private uint _previousSsrc;
    private long _switchMicros = long.MinValue;
    private long _seqOffset;
    private uint _timestampOffset;
    private long _firstInSeq; // unwrapped input sequence where the current source began
    private long _highestOutSeq;
    private uint _highestOutTimestamp;
    private long _highestOutMicros;

    public RtpForwardRewriter(uint outputSsrc, int clockRate, ushort initialSequenceNumber, uint initialTimestamp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clockRate, 1);
        OutputSsrc = outputSsrc;
        _clockRate = clockRate;
        _highestOutSeq = initialSequenceNumber - 1L;
        _highestOutTimestamp = initialTimestamp;
    }

    /// <summary>An output starting at a random sequence number and timestamp.</summary>
    public RtpForwardRewriter(uint outputSsrc, int clockRate, Random random)
        : this(outputSsrc, clockRate, (ushort)random.Next(0, 1 << 16), (uint)random.NextInt64(0, 1L << 32))
    {
    }

    public uint OutputSsrc { get; }
    public long Forwarded { get; private set; }
    /// <summary>Times the source SSRC changed and the offsets were rebased.</summary>
    public long SourceSwitches { get; private set; }
    /// <summary>Too short or not version 2.</summary>
    public long DroppedMalformed { get; private set; }
    /// <summary>Late packets from before the current source began: they would collide with sequence numbers already sent.</summary>
    public long DroppedBeforeSwitch { get; private set; }
    /// <summary>How long after a switch a packet of the previous source counts as a straggler (dropped), not as a switch back.</summary>
    public long StragglerWindowMicros { get; init; } = 500_000;

    /// <summary>Rewrites SSRC, sequence number and timestamp of <paramref name="packet"/> in place; false (packet untouched) when it must not be sent.</summary>
    public bool Rewrite(Span<byte> packet, long nowMicros)
    {
        if (packet.Length < RtpPacketView.FixedHeaderLength || packet[0] >> 6 != 2)
        {
            DroppedMalformed++;
            return false;
        }
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        uint timestamp = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        if (!_started || ssrc != _inSsrc)
        {
            if (_started && ssrc == _previousSsrc && nowMicros - _switchMicros < StragglerWindowMicros)
            {
                DroppedBeforeSwitch++;
                return false;
            }
            Rebase(ssrc, seq, timestamp, nowMicros);
        }
        long inSeq = _inSeq.Unwrap(seq);
        if (inSeq < _firstInSeq)
        {
            DroppedBeforeSwitch++;
            return false;
        }
        long outSeq = inSeq + _seqOffset;
        uint outTimestamp = timestamp + _timestampOffset;
        if (outSeq > _highestOutSeq)
        {
            _highestOutSeq = outSeq;
            _highestOutTimestamp = outTimestamp;
            _highestOutMicros = nowMicros;
        }
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)outSeq);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], outTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], OutputSsrc);
        Forwarded++;
        return true;
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> and rewrites the copy; returns its length or 0.</summary>
    public int Rewrite(ReadOnlySpan<byte> source, Span<byte> destination, long nowMicros)
    {
        if (source.Length > destination.Length)
        {
            DroppedMalformed++;
            return 0;
        }
        source.CopyTo(destination);
        return Rewrite(destination[..source.Length], nowMicros) ? source.Length : 0;
    }

    private void Rebase(uint ssrc, ushort seq, uint timestamp, long nowMicros)
    {
        if (_started)
        {
            SourceSwitches++;
            _previousSsrc = _inSsrc;
            _switchMicros = nowMicros;
        }
        _inSsrc = ssrc;
        _inSeq = default;
        _firstInSeq = _inSeq.Unwrap(seq);
        // The new source continues right after the last packet sent, its clock advanced by the
        // wall time since then (at least one tick so the first frame does not repeat a timestamp).
        _seqOffset = _highestOutSeq + 1 - _firstInSeq;
        long ticks = _started ? Math.Max(1, (nowMicros - _highestOutMicros) * _clockRate / 1_000_000) : 0;
        _timestampOffset = (uint)(_highestOutTimestamp + ticks) - timestamp;
        _started = true;
    }
}
