using System.Net;
using System.Net.Sockets;
using Engine.Host.Output;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

public sealed class OutputQueueTests
{
    private static readonly TrackInfo H264 = new(MediaCodec.H264, 90000, 0, 96);

    [Theory]
    [InlineData(RtmpClient.Engine)]
    [InlineData(RtmpClient.Ffmpeg)]
    public void StalledServer_DropsWholeGops_AsksForAKeyframe_NeverBlocks(RtmpClient client)
    {
        // An "RTMP server" that accepts and never answers the handshake: libavformat's writer blocks in
        // connect, ours holds the media until its buffer is full.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var output = new FlvOutput($"rtmp://127.0.0.1:{port}/live/x", [H264], new FlvOutputOptions { Client = client, QueueFrames = 8, QueueBytes = 32 * 1024, IoTimeoutMicros = 30_000_000 }, "t");
        Assert.True(output.TakeKeyframeRequest());
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int keyframesAfterGap = 0;
        for (int i = 0; i < units.Count; i++)
        {
            var (data, key) = units[i];
            long droppedBefore = output.GopsDropped;
            output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, (uint)(i * 6000), 90000, -1, i * 66_000, key));
            if (key && output.GopsDropped > 0)
                keyframesAfterGap++;
        }
        Assert.True(sw.ElapsedMilliseconds < 2000, $"enqueueing took {sw.ElapsedMilliseconds} ms");
        Assert.True(output.GopsDropped >= 1, "no GOP dropped");
        Assert.True(output.TakeKeyframeRequest(), "no keyframe asked for after the drop");
        // Frames dropped = everything that did not fit, and every dropped run ends at a keyframe.
        if (client == RtmpClient.Ffmpeg)
            Assert.True(output.FramesDropped >= units.Count - 8 - keyframesAfterGap * 8);
        sw.Restart();
        output.Dispose(); // interrupts the blocked connect
        Assert.True(sw.ElapsedMilliseconds < 5000, $"dispose took {sw.ElapsedMilliseconds} ms");
        Assert.True(output.Completion.IsCompleted);
    }

    [Fact]
    public void MediaThread_ReturnsWhileAnOutputsOpenIsBlocked()
    {
        // libavformat's open (connect, then the RTMP handshake) blocks its writer for up to the I/O
        // timeout against a server that accepts and never answers. The media thread, audio included
        // (whose first frame once took the lock the open held), must not wait for it.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var opus = TestMedia.OpusPackets(20);
        var output = new FlvOutput($"rtmp://127.0.0.1:{port}/live/x", [H264, new TrackInfo(MediaCodec.Opus, 48000, 2, 111)],
            new FlvOutputOptions { Client = RtmpClient.Ffmpeg, IoTimeoutMicros = 120_000_000 }, "t");
        try
        {
            output.Enqueue(0, new EncodedFrame(MediaCodec.H264, units[0].Avcc, 0, 90000, -1, 0, units[0].Key));
            Assert.True(listener.Server.Poll(30_000_000, SelectMode.SelectRead), "the writer never connected");
            using var server = listener.AcceptSocket(); // connected: the writer now waits in the open for the handshake
            var media = new Thread(() =>
            {
                for (int i = 1; i < 200; i++)
                {
                    var (data, key) = units[i % units.Count];
                    output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, (uint)(i * 6000), 90000, -1, i * 66_000L, key));
                    output.Enqueue(1, new EncodedFrame(MediaCodec.Opus, opus[i % opus.Count], (uint)(i * 960), 48000, -1, i * 20_000L, false));
                }
            }) { IsBackground = true, Name = "test-media" };
            media.Start();
            // Bounded, and far below the open's 120 s: a media thread held by the open would miss it.
            Assert.True(media.Join(TimeSpan.FromSeconds(30)), "the media thread waited for the output's open");
            Assert.Equal("connecting", output.State); // the open is still blocked
            Assert.Equal(0, output.VideoFramesWritten);
            Assert.True(output.Snapshot().Queued > 300, "the frames wait in the queue");
        }
        finally
        {
            output.Dispose(); // interrupts the open
        }
        Assert.True(output.Completion.IsCompleted);
    }

    [Theory]
    [InlineData(RtmpClient.Engine)]
    [InlineData(RtmpClient.Ffmpeg)]
    public void ServerDown_Retries_WithBackoff(RtmpClient client)
    {
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        // A clock that stands still: the first back-off never ends, so a loaded machine cannot fail a second connect before the state is read.
        var output = new FlvOutput($"rtmp://127.0.0.1:{ClosedPort()}/live/x", [H264], new FlvOutputOptions { Client = client, RetryMinMillis = 50, RetryMaxMillis = 200 }, "t", () => 1_000);
        EnqueueUntilRetrying(output, units);
        Assert.StartsWith("retrying in 50 ms", output.State);
        Assert.NotNull(output.LastError);
        output.Dispose();
    }

    [Theory]
    [InlineData(RtmpClient.Engine)]
    [InlineData(RtmpClient.Ffmpeg)]
    public void WhenTheBackoffEnds_AsksForAKeyframeAgain(RtmpClient client)
    {
        // The keyframe asked for at the failure arrives during the back-off and is dropped; without a
        // second request the retry waits for whatever keyframe the publisher sends next.
        long now = 1_000;
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var delta = units.First(u => !u.Key).Avcc;
        var output = new FlvOutput($"rtmp://127.0.0.1:{ClosedPort()}/live/x", [H264], new FlvOutputOptions { Client = client, RetryMinMillis = 500, RetryMaxMillis = 500 }, "t", () => Volatile.Read(ref now));
        EnqueueUntilRetrying(output, units);
        Assert.StartsWith("retrying in 500 ms", output.State);
        Assert.True(output.TakeKeyframeRequest(), "no keyframe asked for at the failure");

        long droppedBefore = output.FramesDropped;
        output.Enqueue(0, new EncodedFrame(MediaCodec.H264, delta, 0, 90000, -1, 0, false));
        WaitUntil(() => output.FramesDropped > droppedBefore);
        Assert.False(output.TakeKeyframeRequest(), "asked again during the back-off");

        Volatile.Write(ref now, now + 501);
        bool asked = false;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!asked && DateTime.UtcNow < deadline)
        {
            output.Enqueue(0, new EncodedFrame(MediaCodec.H264, delta, 0, 90000, -1, 0, false));
            Thread.Sleep(10);
            asked = output.TakeKeyframeRequest();
        }
        Assert.True(asked, "no keyframe asked for when the back-off ended");
        output.Enqueue(0, new EncodedFrame(MediaCodec.H264, delta, 0, 90000, -1, 0, false));
        Thread.Sleep(50);
        Assert.False(output.TakeKeyframeRequest(), "asked more than once per back-off");
        output.Dispose();
    }

    /// <summary>A loopback port nothing listens on.</summary>
    private static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Frames keep coming, as from a publisher: our client sees its connection's failure on the next write.</summary>
    private static void EnqueueUntilRetrying(FlvOutput output, List<(byte[] Avcc, bool Key)> units)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        for (int i = 0; !output.State.StartsWith("retrying", StringComparison.Ordinal) && DateTime.UtcNow < deadline; i++)
        {
            var (data, key) = units[i % units.Count];
            output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, (uint)(i * 3000), 90000, -1, i * 33_000, key));
            Thread.Sleep(20);
        }
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!condition() && DateTime.UtcNow < deadline)
            Thread.Sleep(5);
        Assert.True(condition());
    }

    [Fact]
    public void Queue_AllocatesNothing_InSteadyState_AndKeepsFewBuffersAfterABacklog()
    {
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        byte[] key = units.First(u => u.Key).Avcc, delta = units.First(u => !u.Key).Avcc, opus = new byte[120];
        var queue = new FrameQueue(600, 32 << 20);

        void Cycle(int videoFrames, int audioFrames, bool withKey)
        {
            for (int i = 0; i < videoFrames; i++)
            {
                bool isKey = withKey && i == 0;
                Assert.True(queue.TryEnqueue(0, new EncodedFrame(MediaCodec.H264, isKey ? key : delta, 0, 90000, -1, 0, isKey)));
            }
            for (int i = 0; i < audioFrames; i++)
                Assert.True(queue.TryEnqueue(1, new EncodedFrame(MediaCodec.Opus, opus, 0, 48000, -1, 0, false)));
            while (queue.TryDequeue(out var f, out _))
                queue.Release(ref f);
        }

        // A backlog (a slow server, a blocked connect): 300 frames in flight at once.
        Cycle(150, 150, withKey: true);
        // At most KeptBuffers per size class stay (the small delta frames share audio's class here); the rest went to the GC.
        Assert.InRange(queue.KeptBufferCount, FrameQueue.KeptBuffers, 2 * FrameQueue.KeptBuffers);
        // Steady state: a batch interval's worth (a few frames of each kind) per round, keyframes included.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 2000; round++)
            Cycle(1 + round % 4, 2 + round % 3, withKey: round % 30 == 0);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(queue.KeptBufferCount <= 2 * FrameQueue.KeptBuffers);
    }

    [Fact]
    public void Enqueue_AllocatesNothing_WhenDropping()
    {
        var unit = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")))[1];
        var output = new FlvOutput("/dev/null", [H264], new FlvOutputOptions { Retry = false, QueueFrames = 8 }, "t");
        try
        {
            output.Complete(); // no more frames are taken: every Enqueue below is a drop
            for (int i = 0; i < 100; i++)
                output.Enqueue(0, new EncodedFrame(MediaCodec.H264, unit.Avcc, (uint)i, 90000, -1, i, i % 10 == 0));
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
                output.Enqueue(0, new EncodedFrame(MediaCodec.H264, unit.Avcc, (uint)i, 90000, -1, i, i % 10 == 0));
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.True(output.FramesDropped >= 1000);
        }
        finally
        {
            output.Dispose();
        }
    }

    [Fact]
    public void EngineClient_RemuxesOnTheCallersThread_AllocatingNothing()
    {
        using var server = new FakeRtmpServer();

        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var output = new FlvOutput(server.Url("x"), [H264],
            new FlvOutputOptions { Client = RtmpClient.Engine, Policy = TranscodePolicy.Passthrough }, "t");
        int i = 0;
        void Cycle(int frames = 10)
        {
            // Frames, then a pause for the pump (every 100 ms) to send them.
            for (int k = 0; k < frames; k++, i++)
            {
                var (data, key) = units[i % units.Count];
                output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, (uint)(i * 3000), 90000, -1, i * 33_333L, key));
            }
            Thread.Sleep(120);
        }
        try
        {
            for (int c = 0; c < 100 && (output.VideoFramesWritten < 20 || output.State != "live"); c++)
                Cycle();
            Assert.Equal("live", output.State);
            Assert.Equal("remux H264", output.Mode);
            // One burst grows the connection's buffer to hold 100 frames, so a late pump (a busy machine) cannot make it grow below.
            Cycle(100);
            Thread.Sleep(300);
            for (int c = 0; c < 10; c++)
                Cycle();
            long dropped = output.FramesDropped, written = output.VideoFramesWritten;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int c = 0; c < 20; c++)
                Cycle();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(dropped, output.FramesDropped);
            Assert.Equal(written + 200, output.VideoFramesWritten);
            output.Complete();
            for (int w = 0; w < 500 && !output.Completion.IsCompleted; w++)
                Thread.Sleep(20);
            Assert.True(output.Completion.IsCompleted);
            Assert.Equal("closed", output.State);
        }
        finally
        {
            output.Dispose();
        }
        server.WaitForClose();
        // The frames (about 300 B to several KB each) and the unpublish reached the server.
        Assert.True(server.Received > output.VideoFramesWritten * 100, $"{server.Received} bytes for {output.VideoFramesWritten} frames");
        Assert.Contains("FCUnpublish", server.Text);
    }
}
