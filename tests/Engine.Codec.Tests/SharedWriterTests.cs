using Engine.Host.Output;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

public sealed class SharedWriterTests
{
    private static readonly TrackInfo H264 = new(MediaCodec.H264, 90000, 0, 96);
    private static readonly TrackInfo Opus = new(MediaCodec.Opus, 48000, 2, 111);

    private sealed class Member(Func<int, bool> turn) : IOutputWorkerMember
    {
        public int Turns, Failures;
        public Exception? Failed;

        public bool Turn() => turn(Interlocked.Increment(ref Turns));

        public void TurnFailed(Exception e)
        {
            Failed = e;
            Interlocked.Increment(ref Failures);
        }
    }

    private static void WaitUntil(Func<bool> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition() && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        Assert.True(condition());
    }

    [Fact]
    public void Members_TakeTurns_OneThatLeavesOrThrowsIsNotCalledAgain_TheOthersGoOn()
    {
        var workers = new OutputWorkers(1, "test-writers");
        bool stop = false;
        var steady = new Member(_ => !Volatile.Read(ref stop));
        var leaves = new Member(n => n < 3);
        var throws = new Member(n => n < 2 ? true : throw new InvalidDataException("a defect"));
        workers.Add(steady);
        workers.Add(leaves);
        workers.Add(throws);
        WaitUntil(() => Volatile.Read(ref steady.Turns) >= 6);
        Assert.Equal(3, leaves.Turns);
        Assert.Equal(0, leaves.Failures);
        Assert.Equal(2, throws.Turns);
        Assert.Equal(1, throws.Failures);
        Assert.IsType<InvalidDataException>(throws.Failed);
        Assert.Equal([1], workers.Counts);
        Volatile.Write(ref stop, true);
        WaitUntil(() => workers.Counts[0] == 0);
    }

    [Fact]
    public void Add_FillsTheFirstWorkerToHalfACore_ThenTheNext()
    {
        // Before any sweep has measured them, a member is assumed to cost a quarter of a core here.
        var workers = new OutputWorkers(2, "test-writers", defaultMemberLoad: 0.25);
        bool stop = false;
        for (int i = 0; i < 4; i++)
            workers.Add(new Member(_ => !Volatile.Read(ref stop)));
        Assert.Equal([2, 2], workers.Counts);
        workers.Add(new Member(_ => !Volatile.Read(ref stop))); // both full: the least loaded
        Assert.Equal([3, 2], workers.Counts);
        Volatile.Write(ref stop, true);
        WaitUntil(() => workers.Counts.Sum() == 0);
    }

    [Fact]
    public void Add_FollowsWhatTheMembersMeasuredCost()
    {
        var workers = new OutputWorkers(2, "test-writers");
        bool stop = false;
        // Busy for half of every 200 ms turn: the worker soon counts it as half a core, not the default.
        var heavy = new Member(_ =>
        {
            Thread.Sleep(RtmpClientSettings.SendIntervalMillis / 2);
            return !Volatile.Read(ref stop);
        });
        workers.Add(heavy);
        WaitUntil(() => Volatile.Read(ref heavy.Turns) >= 5);
        workers.Add(new Member(_ => !Volatile.Read(ref stop)));
        Assert.Equal([1, 1], workers.Counts);
        Volatile.Write(ref stop, true);
        WaitUntil(() => workers.Counts.Sum() == 0);
    }

    [Fact]
    public void Clock_StaysRight_AfterMonthsOfUptime()
    {
        // CLOCK_MONOTONIC in nanoseconds 200 days after boot: ticks * 1000 alone would overflow 64 bits.
        long ns = 200L * 86_400 * 1_000_000_000;
        Assert.Equal(200L * 86_400 * 1000, OutputClock.ToMillis(ns, 1_000_000_000));
        Assert.Equal(1234, OutputClock.ToMillis(12_340_000, 10_000_000));
    }

    /// <summary>A keyframe first, then 15 fps video and 20 ms Opus packets, as fast as the bounded queue takes them.</summary>
    private static void Feed(FlvOutput output, List<(byte[] Avcc, bool Key)> video, List<byte[]> audio, int ticks)
    {
        for (int t = 0; t < ticks; t++)
        {
            long micros = t * 20_000L;
            if (t % 3 == 0)
            {
                int v = t / 3;
                var (data, key) = video[v % video.Count];
                output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, (uint)(v * 6000), 90000, -1, micros, key));
            }
            output.Enqueue(1, new EncodedFrame(MediaCodec.Opus, audio[t % audio.Count], (uint)(t * 960), 48000, -1, micros + 1_000, false));
            if (t % 10 == 0)
                Thread.Sleep(5);
        }
    }

    [Fact]
    public void EngineClient_TranscodesAudioOnASharedWorker_ClosesOnItsOwnThread()
    {
        using var server = new FakeRtmpServer();
        var video = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var audio = TestMedia.OpusPackets(100);
        var output = new FlvOutput(server.Url("a"), [H264, Opus], new FlvOutputOptions { Client = RtmpClient.Engine }, "t");
        try
        {
            Assert.Equal("none", output.Writer);
            Feed(output, video, audio, 150);
            WaitUntil(() => output.AudioFramesWritten >= 100);
            Assert.Equal("shared worker", output.Writer);
            Assert.Equal("remux H264", output.Mode);
            output.Complete();
            WaitUntil(() => output.Completion.IsCompleted);
            Assert.Equal("own thread", output.Writer);
            Assert.Equal("closed", output.State);
        }
        finally
        {
            output.Dispose();
        }
        server.WaitForClose();
        Assert.Contains("FCUnpublish", server.Text);
    }

    [Fact]
    public void EngineClient_VideoTranscode_MovesTheOutputToItsOwnThread()
    {
        using var server = new FakeRtmpServer();
        var video = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var audio = TestMedia.OpusPackets(100);
        var output = new FlvOutput(server.Url("v"), [H264, Opus],
            new FlvOutputOptions { Client = RtmpClient.Engine, Policy = TranscodePolicy.Always }, "t");
        try
        {
            // Audio first: it places the output on a shared worker before the first keyframe decides the mode.
            for (int t = 0; t < 5; t++)
                output.Enqueue(1, new EncodedFrame(MediaCodec.Opus, audio[t], (uint)(t * 960), 48000, -1, t * 20_000L, false));
            Assert.Equal("shared worker", output.Writer);
            Feed(output, video, audio, 150);
            WaitUntil(() => output.VideoFramesWritten >= 20 && output.AudioFramesWritten >= 50);
            Assert.Equal("own thread", output.Writer);
            Assert.StartsWith("transcode", output.Mode);
            output.Complete();
            WaitUntil(() => output.Completion.IsCompleted);
            Assert.Equal("closed", output.State);
        }
        finally
        {
            output.Dispose();
        }
    }
}
