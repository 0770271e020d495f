using System.Net;
using System.Net.Sockets;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

/// <summary>The shared writer threads: few for many outputs, and one stalled output holds none of the others.</summary>
public sealed class OutputPumpTests : IDisposable
{
    private static readonly TrackInfo H264 = new(MediaCodec.H264, 90000, 0, 96);
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-pump-").FullName;
    private readonly List<(byte[] Avcc, bool Key)> _units = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool WaitAll(IEnumerable<Task> tasks, int seconds) => Task.WhenAll(tasks).Wait(TimeSpan.FromSeconds(seconds));

    private static int BaseWorkers => Math.Clamp(Environment.ProcessorCount, 1, 8);

    private void Feed(FlvOutput output, int from, int count)
    {
        for (int i = from; i < from + count; i++)
        {
            var (data, key) = _units[i % _units.Count];
            output.Enqueue(0, new EncodedFrame(MediaCodec.H264, data, (uint)(i * 3000), 90000, -1, i * 33_333L, key || i == 0));
        }
    }

    [Fact]
    public void ManyOutputs_ShareOneWorkerPerCore_AndAllClose()
    {
        var outputs = Enumerable.Range(0, 24)
            .Select(i => new FlvOutput(Path.Combine(_dir, $"o{i}.flv"), [H264], new FlvOutputOptions { Retry = false }, $"o{i}"))
            .ToList();
        int maxWorkers = 0;
        for (int round = 0; round < 10; round++)
        {
            foreach (var o in outputs)
                Feed(o, round * 10, 10);
            maxWorkers = Math.Max(maxWorkers, OutputPump.Shared.WorkerCount);
            Thread.Sleep(20);
        }
        foreach (var o in outputs)
            o.Complete();
        Assert.True(WaitAll(outputs.Select(o => o.Completion), 30), "not every output closed");
        Assert.InRange(maxWorkers, 1, BaseWorkers);
        foreach (var o in outputs)
        {
            Assert.Equal("closed", o.State);
            Assert.True(o.VideoFramesWritten > 0, $"{o.Name} wrote nothing");
            Assert.Equal(100, o.VideoFramesWritten + o.FramesDropped);
            o.Dispose();
        }
        // With no output left, the workers leave: an idle server keeps no writer thread.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (OutputPump.Shared.WorkerCount > 0 && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        Assert.Equal(0, OutputPump.Shared.WorkerCount);
    }

    [Fact]
    public void StalledOutputs_HoldTheirWorkers_TheOthersKeepWriting()
    {
        // An "RTMP server" that accepts and never answers the handshake: its outputs block in connect,
        // one per base worker, so without the supervisor's extra workers nothing else would be written.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var stalled = Enumerable.Range(0, BaseWorkers)
            .Select(i => new FlvOutput($"rtmp://127.0.0.1:{port}/live/s{i}", [H264], new FlvOutputOptions { IoTimeoutMicros = 60_000_000 }, $"stalled{i}"))
            .ToList();
        var files = Enumerable.Range(0, BaseWorkers)
            .Select(i => new FlvOutput(Path.Combine(_dir, $"f{i}.flv"), [H264], new FlvOutputOptions { Retry = false }, $"f{i}"))
            .ToList();
        try
        {
            foreach (var o in stalled)
                Feed(o, 0, 5);
            Thread.Sleep(600); // the stalled connects are older than the supervisor's 250 ms
            for (int round = 0; round < 20; round++)
            {
                foreach (var f in files)
                    Feed(f, round * 5, 5);
                Thread.Sleep(25);
            }
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (files.Any(f => f.VideoFramesWritten < 100) && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
            Assert.All(files, f => Assert.Equal(100, f.VideoFramesWritten));
            Assert.All(stalled, o => Assert.Equal((0L, "connecting"), (o.VideoFramesWritten, o.State)));
            // Each held worker was replaced, so the free ones stayed at the base count.
            Assert.InRange(OutputPump.Shared.WorkerCount, 2 * BaseWorkers, 2 * BaseWorkers + 1);
        }
        finally
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            foreach (var o in stalled)
            {
                o.Dispose(); // interrupts the connect
                Assert.True(o.Completion.IsCompleted);
            }
            Assert.True(sw.ElapsedMilliseconds < 5000, $"dispose took {sw.ElapsedMilliseconds} ms");
            foreach (var f in files)
            {
                f.Complete();
                Assert.True(WaitAll([f.Completion], 10));
                f.Dispose();
            }
        }
    }
}
