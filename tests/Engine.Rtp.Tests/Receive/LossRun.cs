using Engine.Rtp.Media;
using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

/// <summary>
/// Plays a test stream into an <see cref="RtpReceiveStream"/> on a fake clock: a frame every
/// <c>FrameIntervalMicros</c> (15 fps), its packets 1 ms apart, some lost for good, some lost once and resent one RTT after we NACK them
/// (as a sender answering from its history). Records the frames, NACKs and keyframe requests.
/// </summary>
internal sealed class LossRun : IEncodedFrameSink
{
    public readonly RtpReceiveStream Stream;
    public readonly List<(uint Ts, bool Key, byte[] Data)> Frames = new();
    public readonly List<(long At, KeyframeRequestKind Kind, byte FirSeq)> Requests = new();
    public readonly List<ushort> Nacked = new();
    public long RttMicros = 100_000;
    public long FrameIntervalMicros = 66_667;
    public long MaxIntervalMicros = 3_000_000;

    public LossRun(MediaCodec codec) => Stream = new RtpReceiveStream(codec, 90000, 0, this, useNack: true);

    public void OnEnd() { }

    public void OnFrame(int trackIndex, in EncodedFrame frame) => Frames.Add((frame.RtpTimestamp, frame.IsKeyframe, frame.Data.ToArray()));

    public LossRun Run(List<LossPacket> packets, Func<LossPacket, bool>? lostForGood = null, Func<LossPacket, bool>? lostOnce = null)
    {
        lostForGood ??= _ => false;
        lostOnce ??= _ => false;
        Stream.SetRttMicros(RttMicros);
        var bySeq = packets.ToDictionary(p => p.Seq);
        var resent = new HashSet<ushort>();
        var resends = new List<(long At, byte[] Bytes)>();
        Span<ushort> nacks = stackalloc ushort[256];
        var sendAt = new long[packets.Count];
        for (int i = 0, inFrame = 0; i < packets.Count; i++)
        {
            inFrame = i > 0 && packets[i].Frame == packets[i - 1].Frame ? inFrame + 1 : 0;
            sendAt[i] = packets[i].Frame * FrameIntervalMicros + inFrame * 1000L;
        }
        int next = 0;
        long end = sendAt[^1] + 3_000_000;
        for (long now = 0; now <= end; now += 1000)
        {
            while (next < packets.Count && sendAt[next] <= now)
            {
                var p = packets[next++];
                if (!lostForGood(p) && !lostOnce(p))
                    Feed(p.Bytes, now);
            }
            for (int i = resends.Count - 1; i >= 0; i--)
            {
                if (resends[i].At <= now)
                {
                    Feed(resends[i].Bytes, now);
                    resends.RemoveAt(i);
                }
            }
            Stream.HandleTimeout(now);
            int n = Stream.CollectNacks(now, nacks);
            for (int i = 0; i < n; i++)
            {
                Nacked.Add(nacks[i]);
                if (bySeq.TryGetValue(nacks[i], out var p) && lostOnce(p) && !lostForGood(p) && resent.Add(p.Seq))
                    resends.Add((now + RttMicros, p.Bytes));
            }
            var kind = Stream.TakeKeyframeRequestDue(now, MaxIntervalMicros);
            if (kind != KeyframeRequestKind.None)
                Requests.Add((now, kind, Stream.FirSequenceNumber));
        }
        return this;
    }

    public void Feed(byte[] bytes, long now)
    {
        Assert.True(RtpPacketView.TryRead(bytes, out var view));
        Stream.OnRtp(view, now);
    }

    /// <summary>When frame <paramref name="frame"/> begins to arrive.</summary>
    public long FrameStartMicros(int frame) => frame * FrameIntervalMicros;

    /// <summary>The frame indices delivered, by their RTP timestamps.</summary>
    public List<int> DeliveredFrames(List<LossPacket> packets)
    {
        var tsToFrame = new Dictionary<uint, int>();
        foreach (var p in packets)
        {
            if (!p.Padding)
                tsToFrame.TryAdd(RtpPacketView.TryRead(p.Bytes, out var v) ? v.Timestamp : 0, p.Frame);
        }
        return Frames.Select(f => tsToFrame[f.Ts]).ToList();
    }
}
