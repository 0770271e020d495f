namespace Engine.Rtp.Video;

/// <summary>
/// What every video depacketizer shares: the packet sequence rules and frame storage of
/// <see cref="VideoFrameAssembler"/>, padding-only packets, and the frame queue. A codec adds
/// only how a payload's bytes join the frame.
/// </summary>
public abstract class VideoDepacketizer
{
    private protected readonly VideoFrameAssembler Frame;

    private protected VideoDepacketizer(int maxFrameBytes, bool startOnKeyframe) =>
        Frame = new VideoFrameAssembler(maxFrameBytes, startOnKeyframe);

    /// <summary>True while frames are dropped until a keyframe: the session should send PLI.</summary>
    public bool WaitingForKeyframe => Frame.WaitingForKeyframe;
    public long FramesCompleted => Frame.FramesCompleted;
    public long KeyframesCompleted => Frame.KeyframesCompleted;

    public long DropCount(VideoDropReason reason) => Frame.DropCount(reason);

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

    /// <summary>Adds one payload of the frame being assembled (a new frame when Frame.Length is 0).</summary>
    private protected abstract void AppendPayload(ReadOnlySpan<byte> payload);

    private protected virtual void CompleteFrame() => Frame.CompleteFrame();
}
