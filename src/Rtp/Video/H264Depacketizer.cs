using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>
/// Rebuilds H.264 access units from RTP payloads (RFC 6184, packetization-mode 0 and 1: single NAL
/// unit, STAP-A, FU-A). Packets must arrive in sequence order (after the reorder buffer); a gap makes
/// the frame incomplete, and after an incomplete frame everything is dropped until the next intact
/// keyframe, so a decoder never sees a broken reference chain. Storage is owned and reused: steady
/// state allocates nothing.
/// </summary>
public sealed class H264Depacketizer
{
    private const int InitialCapacity = 64 * 1024;
    private const int ReadyCapacity = 2; // a push completes at most two frames (see Push)

    private readonly int _maxFrameBytes;
    private readonly long[] _dropCounts = new long[Enum.GetValues<H264DropReason>().Length];

    // Three buffers rotate: one assembling, up to two ready or lent to the consumer until the next Push.
    private readonly byte[][] _buffers = new byte[ReadyCapacity + 1][];
    private readonly ReadyFrame[] _ready = new ReadyFrame[ReadyCapacity];
    private int _readyHead, _readyCount, _lent = -1;
    private int _assembling;
    private int _length;
    private int _nalCount;
    private bool _inFrame, _corrupt, _tooLarge, _hasIdr;
    private uint _frameTimestamp;
    private long _lastSeqNo = long.MinValue;
    private int _fuLengthOffset = -1; // where the open FU-A NAL's length goes; -1 when none is open

    public H264Depacketizer(int maxFrameBytes = 4 * 1024 * 1024, bool startOnKeyframe = true)
    {
        if (maxFrameBytes < 1024)
            throw new ArgumentOutOfRangeException(nameof(maxFrameBytes));
        _maxFrameBytes = maxFrameBytes;
        WaitingForKeyframe = startOnKeyframe;
        for (int i = 0; i < _buffers.Length; i++)
            _buffers[i] = new byte[Math.Min(InitialCapacity, maxFrameBytes)];
    }

    /// <summary>True while frames are dropped until a keyframe: the session should send PLI.</summary>
    public bool WaitingForKeyframe { get; private set; }

    public long FramesCompleted { get; private set; }
    public long KeyframesCompleted { get; private set; }

    public long DropCount(H264DropReason reason) => _dropCounts[(int)reason];

    /// <summary>
    /// Feeds one RTP payload. <paramref name="seqNo"/> is the unwrapped (64-bit) sequence number.
    /// Afterwards drain <see cref="TryPollFrame"/>.
    /// </summary>
    public void Push(ReadOnlySpan<byte> payload, long seqNo, uint rtpTimestamp, bool marker)
    {
        _lent = -1;
        bool gap = _lastSeqNo != long.MinValue && seqNo != _lastSeqNo + 1;
        if (_lastSeqNo != long.MinValue && seqNo <= _lastSeqNo)
            return; // duplicate or late: the reorder buffer upstream already gave up on it
        _lastSeqNo = seqNo;

        // A new timestamp closes a frame whose marker packet never came: it lost its tail.
        if (_inFrame && rtpTimestamp != _frameTimestamp)
        {
            _corrupt = true;
            CompleteFrame();
        }
        if (!_inFrame)
        {
            _inFrame = true;
            _frameTimestamp = rtpTimestamp;
            _length = 0;
            _nalCount = 0;
            _corrupt = gap; // packets lost before this one may have been this frame's first ones
            _tooLarge = false;
            _hasIdr = false;
            _fuLengthOffset = -1;
        }
        else if (gap)
        {
            _corrupt = true;
        }

        AppendPayload(payload);
        if (marker)
            CompleteFrame();
    }

    /// <summary>Takes the next complete frame; its view is valid until the next Push.</summary>
    public bool TryPollFrame(out H264Frame frame)
    {
        if (_readyCount == 0)
        {
            frame = default;
            return false;
        }
        var r = _ready[_readyHead];
        _readyHead = (_readyHead + 1) % ReadyCapacity;
        _readyCount--;
        _lent = r.Buffer;
        frame = new H264Frame(_buffers[r.Buffer].AsSpan(0, r.Length), r.Timestamp, r.IsKeyframe, r.NalCount);
        return true;
    }

    private void AppendPayload(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty || (p[0] & 0x80) != 0)
        {
            Drop(H264DropReason.Malformed);
            _corrupt = true;
            return;
        }
        var type = (H264NalUnitType)(p[0] & 0x1F);
        switch (type)
        {
            case >= H264NalUnitType.Slice and <= (H264NalUnitType)23:
                CloseOpenFragment();
                AppendNal(p);
                break;
            case H264NalUnitType.StapA:
                CloseOpenFragment();
                AppendStapA(p[1..]);
                break;
            case H264NalUnitType.FuA:
                AppendFuA(p);
                break;
            case H264NalUnitType.StapB or H264NalUnitType.Mtap16 or H264NalUnitType.Mtap24 or H264NalUnitType.FuB:
                Drop(H264DropReason.UnsupportedPacketization);
                _corrupt = true;
                break;
            default: // 0, 30, 31: reserved/undefined, RFC 6184 §5.2 says ignore
                Drop(H264DropReason.Malformed);
                break;
        }
    }

    // RFC 6184 §5.7.1: 16-bit size, then the NAL unit, repeated.
    private void AppendStapA(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty)
        {
            Drop(H264DropReason.Malformed);
            _corrupt = true;
            return;
        }
        while (!p.IsEmpty)
        {
            if (p.Length < 2)
            {
                Drop(H264DropReason.Malformed);
                _corrupt = true;
                return;
            }
            int size = BinaryPrimitives.ReadUInt16BigEndian(p);
            if (size == 0 || size > p.Length - 2 || (p[2] & 0x80) != 0)
            {
                Drop(H264DropReason.Malformed);
                _corrupt = true;
                return;
            }
            AppendNal(p.Slice(2, size));
            p = p[(2 + size)..];
        }
    }

    // RFC 6184 §5.8: FU indicator (F, NRI, type 28), FU header (S, E, R, original type), fragment.
    private void AppendFuA(ReadOnlySpan<byte> p)
    {
        if (p.Length < 3)
        {
            Drop(H264DropReason.Malformed);
            _corrupt = true;
            return;
        }
        byte fuHeader = p[1];
        bool start = (fuHeader & 0x80) != 0, end = (fuHeader & 0x40) != 0;
        if (start)
        {
            CloseOpenFragment();
            if (!Reserve(5))
                return;
            _fuLengthOffset = _length;
            _length += 4;
            _buffers[_assembling][_length++] = (byte)((p[0] & 0xE0) | (fuHeader & 0x1F));
            if ((fuHeader & 0x1F) == (byte)H264NalUnitType.IdrSlice)
                _hasIdr = true;
        }
        else if (_fuLengthOffset < 0)
        {
            _corrupt = true; // its start was lost
            return;
        }
        var fragment = p[2..];
        if (!Reserve(fragment.Length))
            return;
        fragment.CopyTo(_buffers[_assembling].AsSpan(_length));
        _length += fragment.Length;
        if (end)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_buffers[_assembling].AsSpan(_fuLengthOffset), (uint)(_length - _fuLengthOffset - 4));
            _fuLengthOffset = -1;
            _nalCount++;
        }
    }

    private void AppendNal(ReadOnlySpan<byte> nal)
    {
        if (!Reserve(4 + nal.Length))
            return;
        var buf = _buffers[_assembling];
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(_length), (uint)nal.Length);
        nal.CopyTo(buf.AsSpan(_length + 4));
        _length += 4 + nal.Length;
        _nalCount++;
        if ((nal[0] & 0x1F) == (byte)H264NalUnitType.IdrSlice)
            _hasIdr = true;
    }

    /// <summary>An FU-A without its end fragment: cut it off, the frame is broken.</summary>
    private void CloseOpenFragment()
    {
        if (_fuLengthOffset < 0)
            return;
        _length = _fuLengthOffset;
        _fuLengthOffset = -1;
        _corrupt = true;
    }

    private bool Reserve(int bytes)
    {
        if (_tooLarge)
            return false;
        int needed = _length + bytes;
        if (needed > _maxFrameBytes)
        {
            _tooLarge = _corrupt = true;
            return false;
        }
        ref byte[] buf = ref _buffers[_assembling];
        if (needed > buf.Length)
        {
            // Rare: a frame larger than any before. Grow once; the buffer is kept for later frames.
            var bigger = new byte[Math.Min(_maxFrameBytes, Math.Max(needed, buf.Length * 2))];
            buf.AsSpan(0, _length).CopyTo(bigger);
            buf = bigger;
        }
        return true;
    }

    private void CompleteFrame()
    {
        CloseOpenFragment();
        _inFrame = false;
        if (_tooLarge)
            Drop(H264DropReason.FrameTooLarge);
        if (_corrupt || _nalCount == 0)
        {
            if (!_tooLarge)
                Drop(H264DropReason.IncompleteFrame);
            WaitingForKeyframe = true;
            return;
        }
        if (WaitingForKeyframe && !_hasIdr)
        {
            Drop(H264DropReason.WaitingForKeyframe);
            return;
        }
        WaitingForKeyframe = false;
        FramesCompleted++;
        if (_hasIdr)
            KeyframesCompleted++;

        if (_readyCount == ReadyCapacity)
        {
            // The consumer did not drain: drop the oldest rather than grow.
            _readyHead = (_readyHead + 1) % ReadyCapacity;
            _readyCount--;
        }
        _ready[(_readyHead + _readyCount) % ReadyCapacity] = new ReadyFrame(_assembling, _length, _frameTimestamp, _hasIdr, _nalCount);
        _readyCount++;
        _assembling = NextFreeBuffer();
        _length = 0;
    }

    private int NextFreeBuffer()
    {
        for (int b = 0; b < _buffers.Length; b++)
        {
            bool busy = b == _lent;
            for (int i = 0; i < _readyCount && !busy; i++)
                busy = _ready[(_readyHead + i) % ReadyCapacity].Buffer == b;
            if (!busy)
                return b;
        }
        // Frames complete only inside Push, where nothing is lent: at most two of three buffers are busy.
        throw new InvalidOperationException("no free frame buffer");
    }

    private void Drop(H264DropReason reason) => _dropCounts[(int)reason]++;

    private readonly record struct ReadyFrame(int Buffer, int Length, uint Timestamp, bool IsKeyframe, int NalCount);
}
