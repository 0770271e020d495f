using Engine.Codec.Rtmp;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

/// <summary>
/// The output without threads: the test is both the media thread (<see cref="FlvOutputSession.Enqueue"/>)
/// and the writer (<see cref="FlvOutputSession.TryProcessNext"/>), on a fake clock, against a
/// transport that never connects.
/// </summary>
public sealed class FlvOutputSessionTests
{
    private static readonly TrackInfo H264 = new(MediaCodec.H264, 90000, 0, 96);
    private static readonly TrackInfo Opus = new(MediaCodec.Opus, 48000, 2, 111);

    private sealed class FakeTransport : IRtmpTransport
    {
        public readonly List<RtmpLink> Links = new();
        public int Wakes;

        public void Start(RtmpLink link) => Links.Add(link);

        public void Wake() => Wakes++;
    }

    private static EncodedFrame Video((byte[] Avcc, bool Key) unit, int i) =>
        new(MediaCodec.H264, unit.Avcc, (uint)(i * 3000), 90000, -1, i * 33_333L, unit.Key);

    private static int Drain(FlvOutputSession s, long now)
    {
        int n = 0;
        while (n < 1000 && s.TryProcessNext(now, out _))
            n++;
        return n;
    }

    [Fact]
    public void MediaThread_OnlyQueues_TheWriterOpensAndMakesTheAacEncoder_ThenVideoIsRemuxedOnTheMediaThread()
    {
        FfmpegLibrary.Load();
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var opus = TestMedia.OpusPackets(10);
        var transport = new FakeTransport();
        using var s = new FlvOutputSession("rtmp://127.0.0.1:1/live/x", [H264, Opus], new FlvOutputOptions { Policy = TranscodePolicy.Passthrough }, transport);
        Assert.True(s.UsesEngineClient);

        // Media thread: audio, the keyframe and a few frames are queued; nothing is opened or created.
        Assert.True(s.Enqueue(1, new EncodedFrame(MediaCodec.Opus, opus[0], 0, 48000, -1, 0, false), 1_000));
        for (int i = 0; i < 3; i++)
            Assert.True(s.Enqueue(0, Video(units[i], i), 1_000));
        Assert.Empty(transport.Links);
        Assert.Equal(4, s.Queued);
        Assert.Equal(0, s.VideoFramesWritten);

        // Writer: opens the link (with the AAC sequence header, so the encoder exists) and writes the queued video.
        Assert.Equal(4, Drain(s, 1_000));
        var link = Assert.Single(transport.Links);
        Assert.Equal(3, s.VideoFramesWritten);
        Assert.Equal("remux H264", s.Mode);
        int held = link.Session.PendingBytes;
        Assert.True(held > 0);

        // The queue held no video: from here the media thread appends itself, and queues only audio.
        for (int i = 3; i < 8; i++)
            Assert.False(s.Enqueue(0, Video(units[i], i), 1_010));
        Assert.Equal(0, s.Queued);
        Assert.Equal(8, s.VideoFramesWritten);
        Assert.True(link.Session.PendingBytes > held);
        Assert.True(s.Enqueue(1, new EncodedFrame(MediaCodec.Opus, opus[1], 960, 48000, -1, 20_000, false), 1_010));
        Assert.Single(transport.Links);
    }

    [Fact]
    public void AFailedLink_HandsVideoBackToTheWriter_WhichRetriesAfterTheBackoff()
    {
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var transport = new FakeTransport();
        using var s = new FlvOutputSession("rtmp://127.0.0.1:1/live/x", [H264],
            new FlvOutputOptions { Policy = TranscodePolicy.Passthrough, RetryMinMillis = 100, RetryMaxMillis = 100 }, transport);
        int i = 0;
        Assert.True(s.Enqueue(0, Video(units[i], i++), 1_000));
        Drain(s, 1_000);
        Assert.False(s.Enqueue(0, Video(units[i], i++), 1_000)); // direct
        Assert.True(s.TakeKeyframeRequest()); // the one asked for at the start

        // The transport fails the connection (the server went away): the media thread's next write sees it, closes nothing and hands over.
        transport.Links[0].Fail("RTMP server closed the connection");
        long dropped = s.FramesDropped;
        Assert.False(s.Enqueue(0, Video(units[i], i++), 1_000));
        Assert.Equal(dropped + 1, s.FramesDropped);
        Assert.True(s.TakeKeyframeRequest());
        Assert.True(s.Enqueue(0, Video(units[i], i++), 1_000)); // queued now
        Drain(s, 1_000);
        Assert.StartsWith("retrying in 100 ms: RTMP server closed the connection", s.State);
        Assert.Equal(1, transport.Wakes); // the failed link was aborted

        // During the back-off frames are dropped; after it, the next keyframe opens a new link.
        var key = units.First(u => u.Key);
        Assert.True(s.Enqueue(0, Video(key, i++), 1_050));
        Drain(s, 1_050);
        Assert.Single(transport.Links);
        Assert.True(s.Enqueue(0, Video(key, i++), 1_101));
        Drain(s, 1_101);
        Assert.Equal(2, transport.Links.Count);
        Assert.Equal(1, s.Reconnects);
        Assert.False(s.Enqueue(0, Video(units[1], i++), 1_101)); // direct again
    }

    [Fact]
    public void TranscodedVideo_StaysWithTheWriter()
    {
        FfmpegLibrary.Load();
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var transport = new FakeTransport();
        using var s = new FlvOutputSession("rtmp://127.0.0.1:1/live/x", [H264], new FlvOutputOptions { Policy = TranscodePolicy.Always }, transport);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(s.Enqueue(0, Video(units[i], i), 1_000));
            Drain(s, 1_000);
        }
        Assert.True(s.TranscodesVideo);
        Assert.StartsWith("transcode", s.Mode);
        Assert.Single(transport.Links);
    }
}
