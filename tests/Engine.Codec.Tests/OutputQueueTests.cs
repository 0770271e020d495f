using System.Net;
using System.Net.Sockets;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

public sealed class OutputQueueTests
{
    private static readonly TrackInfo H264 = new(MediaCodec.H264, 90000, 0, 96);

    [Fact]
    public void StalledServer_DropsWholeGops_AsksForAKeyframe_NeverBlocks()
    {
        // An "RTMP server" that accepts and never answers the handshake: the writer blocks in connect.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var output = new FlvOutput($"rtmp://127.0.0.1:{port}/live/x", [H264], new FlvOutputOptions { QueueFrames = 8, IoTimeoutMicros = 30_000_000 }, "t");
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
        Assert.True(output.FramesDropped >= units.Count - 8 - keyframesAfterGap * 8);
        sw.Restart();
        output.Dispose(); // interrupts the blocked connect
        Assert.True(sw.ElapsedMilliseconds < 5000, $"dispose took {sw.ElapsedMilliseconds} ms");
        Assert.True(output.Completion.IsCompleted);
    }

    [Fact]
    public void ServerDown_Retries_WithBackoff()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var output = new FlvOutput($"rtmp://127.0.0.1:{port}/live/x", [H264], new FlvOutputOptions { RetryMinMillis = 50, RetryMaxMillis = 200 }, "t");
        foreach (var (data, key) in units.Take(5))
            output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, 0, 90000, -1, 0, key));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!output.State.StartsWith("retrying", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        Assert.StartsWith("retrying in 50 ms", output.State);
        Assert.NotNull(output.LastError);
        output.Dispose();
    }

    [Fact]
    public void Enqueue_AllocatesNothing_AfterWarmUp()
    {
        var units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var key = units.First(u => u.Key).Avcc;
        var delta = units.First(u => !u.Key).Avcc;
        var output = new FlvOutput("/dev/null", [H264], new FlvOutputOptions { Retry = false, QueueFrames = 64 }, "t");
        try
        {
            // The queue allocates a buffer only when more frames are in flight than ever before, and
            // how many that is depends on when the writer thread runs. Warm up until it has been full
            // once: from then on every buffer it can need exists.
            var big = key.Length >= delta.Length ? key : delta;
            for (int i = 0; output.GopsDropped == 0; i++)
            {
                Assert.True(i < 10_000_000, "the queue never filled");
                output.Enqueue(0, new EncodedFrame(MediaCodec.H264, big, (uint)i, 90000, -1, i, false));
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3000; i++)
            {
                bool isKey = i % 30 == 0;
                output.Enqueue(0, new EncodedFrame(MediaCodec.H264, isKey ? key : delta, (uint)i, 90000, -1, i, isKey));
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.True(output.VideoFramesWritten + output.FramesDropped > 0);
        }
        finally
        {
            output.Dispose();
        }
    }
}
