namespace Engine.Rtp.Video;

/// <summary>
/// What every video depacketizer shares: the packet sequence rules and frame storage of
/// <see cref="VideoFrameAssembler"/>, padding-only packets, and the frame queue. A codec adds
/// how a payload's bytes join the frame and what its headers say about dependencies.
/// </summary>
public abstract class VideoDepacketizer
{
    /// <summary>Sequence numbers asked for before a stream's first packet when it does not begin a frame.</summary>
    public const int FirstPacketBackfill = 16;

    private protected readonly VideoFrameAssembler Frame;

    private protected VideoDepacketizer(int maxFrameBytes, bool startOnKeyframe)
        : this(maxFrameBytes, startOnKeyframe, null)
    {
    }

    private protected VideoDepacketizer(int maxFrameBytes, bool startOnKeyframe, IFrameDependencies? dependencies) =>
        Frame = new VideoFrameAssembler(maxFrameBytes, startOnKeyframe, dependencies);

    /// <summary>True while frames are dropped until a keyframe: the session should send PLI.</summary>
    public bool WaitingForKeyframe => Frame.WaitingForKeyframe;
    /// <summary>A keyframe would repair something: the chain is broken or a temporal layer waits to resync.</summary>
    public bool KeyframeWanted => Frame.KeyframeWanted;
    /// <summary>A keyframe's packets are arriving.</summary>
    public bool AssemblingKeyframe => Frame.AssemblingKeyframe;
    public long FramesCompleted => Frame.FramesCompleted;
    public long KeyframesCompleted => Frame.KeyframesCompleted;

    public long DropCount(VideoDropReason reason) => Frame.DropCount(reason);

    /// <summary>The stream starts at <paramref name="seqNo"/> or later (see <see cref="VideoFrameAssembler.ExpectFrom"/>).</summary>
    public void ExpectFrom(long seqNo) => Frame.ExpectFrom(seqNo);

    /// <summary>
    /// How many sequence numbers before this payload belong to its frame and may be missing: 0 when it
    /// begins a frame (or is padding), a few when it begins an H.264 IDR whose SPS/PPS go first,
    /// <see cref="FirstPacketBackfill"/> when it is the middle of a frame.
    /// </summary>
    public virtual int PacketsMissingBefore(ReadOnlySpan<byte> payload) => 0;

    /// <summary>Feeds one RTP payload; <paramref name="seqNo"/> is unwrapped. Then drain <see cref="TryPollFrame"/>.</summary>
    public void Push(ReadOnlySpan<byte> payload, long seqNo, uint rtpTimestamp, bool marker)
    {
        if (payload.IsEmpty)
        {
            Frame.SkipEmptyPacket(seqNo);
            return;
        }
        if (!Frame.BeginPacket(seqNo, rtpTimestamp))
            return;
        AppendPayload(payload);
        if (marker)
            CompleteFrame();
    }

    /// <summary>Takes the next complete frame (H.264: AVCC); the view is valid until the next Push.</summary>
    public bool TryPollFrame(out VideoFrame frame)
    {
        if (!Frame.TryPollFrame(out var data, out uint ts, out bool key, out _, out int w, out int h))
        {
            frame = default;
            return false;
        }
        frame = new VideoFrame(data, ts, key, w, h);
        return true;
    }

    /// <summary>Adds one payload of the frame being assembled (a new frame when Frame.PacketsInFrame is 1).</summary>
    private protected abstract void AppendPayload(ReadOnlySpan<byte> payload);

    private protected virtual void CompleteFrame() => Frame.CompleteFrame();
}
