namespace Engine.Rtp.Video;

/// <summary>
/// The storage and loss rules every video depacketizer shares. Packets arrive in sequence order
/// (after the reorder buffer). A gap inside a frame makes it incomplete. A gap between frames lost
/// padding or whole frames: the codec's dependency information (<see cref="IFrameDependencies"/>)
/// says whether the next whole frame still decodes, and whether a lost frame had dependents; without
/// it, any gap drops everything until the next intact keyframe, so a decoder never sees a broken
/// reference chain. Three buffers rotate (one assembling, up to two ready or lent until the next
/// packet), grown only when a frame is larger than any before: steady state allocates nothing.
/// </summary>
public sealed class VideoFrameAssembler
{
    private const int InitialCapacity = 16 * 1024; // grows to the largest frame seen, once
    private const int ReadyCapacity = 2; // a packet completes at most two frames (see BeginPacket)

    private readonly int _maxFrameBytes;
    private readonly long[] _dropCounts = new long[Enum.GetValues<VideoDropReason>().Length];
    private readonly byte[][] _buffers = new byte[ReadyCapacity + 1][];
    private readonly Ready[] _ready = new Ready[ReadyCapacity];
    private readonly IFrameDependencies? _deps;
    private int _readyHead, _readyCount, _lent = -1;
    private int _assembling;
    private bool _corrupt, _tooLarge;
    private long _lostBefore; // sequence numbers missing between the previous frame and this one
    private long _pendingLost; // missing ones seen (around padding) while no frame was open
    private long _lastSeqNo = long.MinValue;

    public VideoFrameAssembler(int maxFrameBytes, bool startOnKeyframe)
        : this(maxFrameBytes, startOnKeyframe, null)
    {
    }

    internal VideoFrameAssembler(int maxFrameBytes, bool startOnKeyframe, IFrameDependencies? dependencies)
    {
        if (maxFrameBytes < 1024)
            throw new ArgumentOutOfRangeException(nameof(maxFrameBytes));
        _maxFrameBytes = maxFrameBytes;
        _deps = dependencies;
        WaitingForKeyframe = startOnKeyframe;
        for (int i = 0; i < _buffers.Length; i++)
            _buffers[i] = new byte[Math.Min(InitialCapacity, maxFrameBytes)];
    }

    /// <summary>The base reference chain is broken: only a keyframe (or a frame the codec proves decodable) is delivered.</summary>
    public bool WaitingForKeyframe { get; private set; }
    /// <summary>The chain is broken or a temporal layer waits to resync: a keyframe is wanted.</summary>
    public bool KeyframeWanted => WaitingForKeyframe || (_deps?.LayersBroken ?? false);
    /// <summary>A keyframe is being assembled (its start arrived, its end not yet).</summary>
    public bool AssemblingKeyframe => InFrame && IsKeyframe;
    /// <summary>The frame being assembled began with its first packet (set by the codec's parser).</summary>
    public bool StartSeen { get; set; }
    /// <summary>Packets of the frame being assembled so far.</summary>
    public int PacketsInFrame { get; private set; }
    public long FramesCompleted { get; private set; }
    public long KeyframesCompleted { get; private set; }
    public bool InFrame { get; private set; }
    public uint FrameTimestamp { get; private set; }
    /// <summary>Bytes written into the frame being assembled.</summary>
    public int Length { get; private set; }
    /// <summary>The frame being assembled holds a keyframe start (set by the codec's parser).</summary>
    public bool IsKeyframe { get; set; }
    /// <summary>Codec units in the frame (NAL units for H.264, partitions otherwise).</summary>
    public int UnitCount { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }

    public long DropCount(VideoDropReason reason) => _dropCounts[(int)reason];

    public void CountDrop(VideoDropReason reason) => _dropCounts[(int)reason]++;

    /// <summary>Everything written so far in the frame being assembled.</summary>
    public Span<byte> Written => _buffers[_assembling].AsSpan(0, Length);

    /// <summary>
    /// The stream's first packet is <paramref name="seqNo"/> or later: a gap before the first packet
    /// delivered (the lost start of the stream) counts as one.
    /// </summary>
    public void ExpectFrom(long seqNo)
    {
        if (_lastSeqNo == long.MinValue)
            _lastSeqNo = seqNo - 1;
    }

    /// <summary>
    /// Starts handling one packet. False for a duplicate or late packet, which the caller ignores.
    /// A new timestamp closes a frame whose marker never came (it lost its tail).
    /// </summary>
    public bool BeginPacket(long seqNo, uint rtpTimestamp)
    {
        _lent = -1;
        if (_lastSeqNo != long.MinValue && seqNo <= _lastSeqNo)
            return false;
        long missing = _lastSeqNo == long.MinValue ? 0 : seqNo - _lastSeqNo - 1;
        _lastSeqNo = seqNo;
        if (InFrame && rtpTimestamp != FrameTimestamp)
        {
            _corrupt = true;
            CompleteFrame();
        }
        if (!InFrame)
        {
            InFrame = true;
            FrameTimestamp = rtpTimestamp;
            Length = 0;
            UnitCount = 0;
            PacketsInFrame = 0;
            Width = Height = 0;
            IsKeyframe = false;
            StartSeen = false;
            // What was lost may have been this frame's first packets: the codec's StartSeen tells.
            _lostBefore = _pendingLost + missing;
            _pendingLost = 0;
            _corrupt = false;
            _tooLarge = false;
            _deps?.BeginFrame();
        }
        else if (missing > 0)
        {
            _corrupt = true;
        }
        PacketsInFrame++;
        return true;
    }

    /// <summary>
    /// A packet with no payload (padding only: senders probe bandwidth with these, carrying the
    /// previous frame's timestamp). It keeps the sequence continuous but is no part of any frame.
    /// </summary>
    public void SkipEmptyPacket(long seqNo)
    {
        _lent = -1;
        if (_lastSeqNo != long.MinValue && seqNo <= _lastSeqNo)
            return;
        long missing = _lastSeqNo == long.MinValue ? 0 : seqNo - _lastSeqNo - 1;
        _lastSeqNo = seqNo;
        if (missing > 0)
        {
            if (InFrame)
                _corrupt = true;
            else
                _pendingLost += missing;
        }
    }

    public void MarkCorrupt() => _corrupt = true;

    /// <summary>Cuts the frame back to <paramref name="length"/> bytes (an unfinished unit).</summary>
    public void Truncate(int length) => Length = Math.Min(Length, length);

    /// <summary>Makes room for <paramref name="bytes"/> more and returns it, or an empty span when the frame is too large.</summary>
    public Span<byte> Reserve(int bytes)
    {
        if (_tooLarge)
            return Span<byte>.Empty;
        int needed = Length + bytes;
        if (needed > _maxFrameBytes)
        {
            _tooLarge = _corrupt = true;
            return Span<byte>.Empty;
        }
        ref byte[] buf = ref _buffers[_assembling];
        if (needed > buf.Length)
        {
            var bigger = new byte[Math.Min(_maxFrameBytes, Math.Max(needed, buf.Length * 2))];
            buf.AsSpan(0, Length).CopyTo(bigger);
            buf = bigger;
        }
        var span = buf.AsSpan(Length, bytes);
        Length = needed;
        return span;
    }

    public bool Append(ReadOnlySpan<byte> data)
    {
        var dst = Reserve(data.Length);
        if (dst.Length != data.Length)
            return false;
        data.CopyTo(dst);
        return true;
    }

    /// <summary>Ends the frame (marker bit, or a new timestamp): queues it or drops it by the rules above.</summary>
    public void CompleteFrame()
    {
        InFrame = false;
        bool whole = !_corrupt && Length > 0 && (_lostBefore == 0 || StartSeen);
        if (_tooLarge)
            CountDrop(VideoDropReason.FrameTooLarge);
        if (!whole)
        {
            if (!_tooLarge)
                CountDrop(VideoDropReason.IncompleteFrame);
            Lose();
            return;
        }
        switch (_deps?.Judge(IsKeyframe, _lostBefore, WaitingForKeyframe) ?? FrameDependencyVerdict.Unknown)
        {
            case FrameDependencyVerdict.Unknown:
                if (_lostBefore > 0 && !IsKeyframe)
                {
                    // No codec information: the gap may have held a reference frame.
                    CountDrop(VideoDropReason.IncompleteFrame);
                    _deps?.OnDropped();
                    WaitingForKeyframe = true;
                    return;
                }
                if (WaitingForKeyframe && !IsKeyframe)
                {
                    CountDrop(VideoDropReason.WaitingForKeyframe);
                    _deps?.OnDropped();
                    return;
                }
                break;
            case FrameDependencyVerdict.MissingReference:
                CountDrop(WaitingForKeyframe ? VideoDropReason.WaitingForKeyframe : VideoDropReason.MissingReference);
                Lose();
                return;
            case FrameDependencyVerdict.MissingParameterSets:
                CountDrop(VideoDropReason.MissingParameterSets);
                _deps?.OnDropped();
                WaitingForKeyframe = true;
                return;
        }
        if (IsKeyframe)
            WaitingForKeyframe = false;
        _deps?.OnDelivered(IsKeyframe);
        FramesCompleted++;
        if (IsKeyframe)
            KeyframesCompleted++;
        if (_readyCount == ReadyCapacity)
        {
            // The consumer did not drain: drop the oldest rather than grow.
            _readyHead = (_readyHead + 1) % ReadyCapacity;
            _readyCount--;
        }
        _ready[(_readyHead + _readyCount) % ReadyCapacity] = new Ready(_assembling, Length, FrameTimestamp, IsKeyframe, UnitCount, Width, Height);
        _readyCount++;
        _assembling = NextFreeBuffer();
        Length = 0;
    }

    /// <summary>Takes the next complete frame; its bytes stay valid until the next <see cref="BeginPacket"/>.</summary>
    public bool TryPollFrame(out ReadOnlySpan<byte> data, out uint rtpTimestamp, out bool isKeyframe, out int unitCount, out int width, out int height)
    {
        if (_readyCount == 0)
        {
            data = default;
            rtpTimestamp = 0;
            isKeyframe = false;
            unitCount = width = height = 0;
            return false;
        }
        var r = _ready[_readyHead];
        _readyHead = (_readyHead + 1) % ReadyCapacity;
        _readyCount--;
        _lent = r.Buffer;
        data = _buffers[r.Buffer].AsSpan(0, r.Length);
        (rtpTimestamp, isKeyframe, unitCount, width, height) = (r.Timestamp, r.IsKeyframe, r.UnitCount, r.Width, r.Height);
        return true;
    }

    private void Lose()
    {
        if ((_deps?.OnDropped() ?? FrameLossImpact.BreaksChain) == FrameLossImpact.BreaksChain)
            WaitingForKeyframe = true;
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
        // Frames complete only while handling a packet, when nothing is lent: at most two of three are busy.
        throw new InvalidOperationException("no free frame buffer");
    }

    private readonly record struct Ready(int Buffer, int Length, uint Timestamp, bool IsKeyframe, int UnitCount, int Width, int Height);
}
