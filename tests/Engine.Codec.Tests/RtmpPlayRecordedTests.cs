using Engine.Codec.Rtmp;

namespace Engine.Codec.Tests;

/// <summary>The play session and the demuxer on what a real nginx-rtmp sent (tests/fixtures/rtmp, see its README).</summary>
public sealed class RtmpPlayRecordedTests
{
    private static readonly byte[] Capture = File.ReadAllBytes(Fixtures.PathOf("rtmp/nginx-rtmp-play-server.bin"));
    private static readonly RtmpUrl Url = new("127.0.0.1", 1935, "live", "cam");

    private sealed class Collector : IRtmpPlayHandler
    {
        public readonly FlvTagDemuxer Demux = new();
        public readonly List<RtmpPlayEventKind> Events = new();
        public readonly List<(long Dts, long Pts, int Size, bool Key, int Nals)> Video = new();
        public readonly List<(long Pts, int Size)> Audio = new();
        public readonly List<FlvDemuxResult> Configs = new();
        public RtmpPlayMetadata Metadata;

        public void OnEvent(in RtmpPlayEvent e)
        {
            switch (e.Kind)
            {
                case RtmpPlayEventKind.Video:
                {
                    var r = Demux.DemuxVideo(e.Millis, e.Payload, out var v);
                    if (r == FlvDemuxResult.Frame)
                        Video.Add((v.DtsMillis, v.PtsMillis, v.TagDataLength, v.Keyframe, v.NalCount));
                    else
                        Configs.Add(r);
                    return;
                }
                case RtmpPlayEventKind.Audio:
                {
                    var r = Demux.DemuxAudio(e.Millis, e.Payload, out var a);
                    if (r == FlvDemuxResult.Frame)
                        Audio.Add((a.Millis, a.Data.Length));
                    else
                        Configs.Add(r);
                    return;
                }
                case RtmpPlayEventKind.Metadata:
                    Metadata = e.Metadata;
                    break;
            }
            Events.Add(e.Kind);
        }
    }

    private static (RtmpPlaySession, Collector) Replay(int seed)
    {
        var c = new Collector();
        var s = new RtmpPlaySession(Url, c);
        s.Start(0);
        var rng = new Random(seed);
        for (int o = 0; o < Capture.Length && !s.HasFailed;)
        {
            int n = seed == 0 ? Capture.Length : Math.Min(rng.Next(1, 3000), Capture.Length - o);
            s.Receive(Capture.AsSpan(o, n));
            o += n;
            s.Outgoing.Consume(s.Outgoing.Length);
        }
        return (s, c);
    }

    [Fact]
    public void NginxReplies_PlayTheStream()
    {
        var (s, c) = Replay(0);
        Assert.False(s.HasFailed, s.Error);
        Assert.Equal(RtmpPlayState.Playing, s.State);
        Assert.Equal((1u, 4096, 5_000_000u), (s.StreamId, s.InChunkSize, s.AckWindow));
        Assert.Equal([RtmpPlayEventKind.PlayStart, RtmpPlayEventKind.Metadata, RtmpPlayEventKind.PlayStop], c.Events);
        Assert.Equal((640.0, 480.0, 7.0, 10.0), (c.Metadata.Width, c.Metadata.Height, c.Metadata.VideoCodecId, c.Metadata.AudioCodecId));
        Assert.Equal(234, s.MessagesReceived);

        var d = c.Demux;
        Assert.Equal([FlvDemuxResult.Config, FlvDemuxResult.Config, FlvDemuxResult.EndOfSequence], c.Configs);
        Assert.Equal((100, 4), (d.Profile, d.NalLengthSize));
        Assert.True(Engine.Rtp.Video.H264Sps.TryParse(d.Sps, out var sps));
        Assert.Equal((640, 480), (sps.Width, sps.Height));
        Assert.True(d.HasBFrames);
        Assert.Equal(new AacAudioSpecificConfig(2, 44100, 2, 2), d.AudioConfig);
        Assert.Equal(0, d.Malformed + d.FramesBeforeConfig + d.Unsupported);

        // 3 s at 30 fps: 90 frames, a key frame every 30, DTS 33-34 ms apart, rising; B-frames shown later.
        Assert.Equal(90, c.Video.Count);
        Assert.Equal([0, 30, 60], c.Video.Select((v, i) => (v, i)).Where(x => x.v.Key).Select(x => x.i));
        Assert.All(c.Video.Zip(c.Video.Skip(1)), p => Assert.InRange(p.Second.Dts - p.First.Dts, 33, 34));
        Assert.All(c.Video, v => Assert.InRange(v.Pts - v.Dts, 33, 134));
        Assert.Contains(c.Video.Zip(c.Video.Skip(1)), p => p.Second.Pts < p.First.Pts); // presentation order differs from decode order
        // 44.1 kHz AAC: 1024 samples a frame, 23.2 ms.
        Assert.Equal(131, c.Audio.Count);
        Assert.All(c.Audio.Zip(c.Audio.Skip(1)), p => Assert.InRange(p.Second.Pts - p.First.Pts, 23, 24));
        Assert.InRange(c.Audio[^1].Pts - c.Audio[0].Pts, 2950, 3050);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void NginxReplies_InAnyPieces_GiveTheSameFrames(int seed)
    {
        var (_, whole) = Replay(0);
        var (s, pieces) = Replay(seed);
        Assert.False(s.HasFailed, s.Error);
        Assert.Equal(whole.Events, pieces.Events);
        Assert.Equal(whole.Video, pieces.Video);
        Assert.Equal(whole.Audio, pieces.Audio);
    }

    [Fact]
    public void NginxReplies_CutAnywhere_OrWithBytesFlipped_NeverThrow()
    {
        var rng = new Random(11);
        for (int i = 0; i < 200; i++)
        {
            byte[] bytes = Capture.AsSpan(0, rng.Next(1, Capture.Length)).ToArray();
            for (int k = 0; k < 1 + i % 8; k++)
                bytes[rng.Next(3073, bytes.Length > 3073 ? bytes.Length : 3074) % bytes.Length] ^= (byte)rng.Next(1, 256);
            var c = new Collector();
            var s = new RtmpPlaySession(Url, c);
            s.Start(0);
            s.Receive(bytes);
            Assert.True(!s.HasFailed || !string.IsNullOrEmpty(s.Error));
        }
    }
}
