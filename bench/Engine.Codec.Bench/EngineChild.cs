using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Engine.Host.Output;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;

namespace Engine.Codec.Bench;

/// <summary>
/// The engine side of <see cref="Compare"/>, in its own process so its CPU and memory are its own:
/// N publishers' RTP on ONE UDP socket (as the engine's media port; the harness sends plain RTP,
/// so no SRTP, ICE or RTCP), demultiplexed by SSRC on one thread into RtpReceiveStream per track,
/// each stream's frames into an FlvPublishSink with one FlvOutput (its own writer thread).
/// Protocol: prints "READY port"; the line "mark" on stdin starts the measured window (the in-process
/// feed's lateness is counted from there); "stop" (or any other line, or end of input) ends every
/// stream, waits for the outputs to close and prints "STATS ..." (lateMaxMs/lateP95Ms: how far behind
/// its schedule the in-process feed delivered packets in the window; 0 when fed over UDP).
/// Args: streams audio(0/1) first-url url-pattern-with-{i} recording.sdp.
/// </summary>
internal static partial class EngineChild
{
    public const uint SsrcBase = 0x10000000;

    public static int Run(string[] args)
    {
        int streams = int.Parse(args[0], CultureInfo.InvariantCulture);
        bool audio = args[1] == "1";
        string firstUrl = args[2], pattern = args[3];
        FfmpegLibrary.Load();
        var recorded = Recording.LoadTracks(args[4]);
        int videoTrack = Array.FindIndex(recorded, t => t.IsVideo), audioTrack = Array.FindIndex(recorded, t => !t.IsVideo);
        // Output tracks: the recording's, or video alone.
        var tracks = audio ? recorded : [recorded[videoTrack]];
        int outVideo = Array.FindIndex(tracks, t => t.IsVideo), outAudio = Array.FindIndex(tracks, t => !t.IsVideo);

        var sinks = new FlvPublishSink[streams];
        // [stream * 2 + recording track]; null: not received (audio off).
        var receivers = new RtpReceiveStream?[streams * 2];
        for (int i = 0; i < streams; i++)
        {
            string url = i == 0 ? firstUrl : pattern.Replace("{i}", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            sinks[i] = new FlvPublishSink([new FlvOutput(url, tracks, new FlvOutputOptions(), $"flv {i}")]);
            receivers[i * 2 + videoTrack] = new RtpReceiveStream(MediaCodec.H264, 90000, outVideo, sinks[i], useNack: true);
            if (audio)
                receivers[i * 2 + audioTrack] = new RtpReceiveStream(MediaCodec.Opus, 48000, outAudio, sinks[i], useNack: true);
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 << 20;
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Blocking = false;
        var stop = new ManualResetEventSlim();
        long packets = 0, unknown = 0;
        bool inproc = args.Length > 5 && args[5] == "inproc";
        var recording = inproc ? Recording.Load(Path.ChangeExtension(args[4], ".rtpdump")) : null;
        var lateness = new FeedLateness();
        var loop = new Thread(() => packets = inproc ? Play(recording!, streams, receivers, stop, lateness) : Receive(socket, receivers, stop, ref unknown))
            { IsBackground = true, Name = "media-loop" };
        loop.Start();
        Console.WriteLine($"READY {((IPEndPoint)socket.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture)}");

        // Bounded: the harness always sends "stop"; an hour is a runaway.
        var deadline = DateTime.UtcNow.AddHours(1);
        while (true)
        {
            var line = Task.Run(Console.In.ReadLine);
            if (!line.Wait(TimeSpan.FromTicks(Math.Max(0, (deadline - DateTime.UtcNow).Ticks))) || line.Result != "mark")
                break;
            lateness.RequestReset();
        }
        stop.Set();
        loop.Join(TimeSpan.FromSeconds(5));
        foreach (var s in sinks)
            s.OnEnd();
        bool closed = Task.WhenAll(sinks.Select(s => s.Completion)).Wait(TimeSpan.FromSeconds(15));
        var outputs = sinks.Select(s => s.Outputs[0]).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"STATS packets={packets} unknownSsrc={unknown} videoFrames={outputs.Sum(o => o.VideoFramesWritten)} audioFrames={outputs.Sum(o => o.AudioFramesWritten)} " +
            $"dropped={outputs.Sum(o => o.FramesDropped)} gopsDropped={outputs.Sum(o => o.GopsDropped)} reconnects={outputs.Sum(o => o.Reconnects)} " +
            $"gen0={GC.CollectionCount(0)} allocatedKB={GC.GetTotalAllocatedBytes() / 1024} " +
            $"lateMaxMs={lateness.MaxMicros / 1000.0:F1} lateP95Ms={lateness.PercentileMs(0.95):F1} " +
            $"closed={closed} mode=\"{outputs[0].Mode}\" errors=\"{string.Join("; ", outputs.Select(o => o.LastError).Where(e => e != null).Distinct())}\""));
        foreach (var s in sinks)
            s.Dispose();
        return 0;
    }

    /// <summary>
    /// The recording at its recorded pace straight into the pipelines, on one thread that wakes every
    /// 5 ms and delivers what is due (the same schedule as the harness's UDP feeder: stream i starts i/N s late).
    /// Timers as the engine's MediaLoop runs them: a receiver's HandleTimeout only when its own deadline is due.
    /// </summary>
    private static long Play(Recording rec, int streams, RtpReceiveStream?[] receivers, ManualResetEventSlim stop, FeedLateness lateness)
    {
        var next = new int[streams];
        var loops = new int[streams];
        var due = new long[streams]; // when stream s's next packet is due
        var timerDue = new long[receivers.Length];
        long start = Now() + 100_000, packets = 0;
        for (int s = 0; s < streams; s++)
            due[s] = start + s * 1_000_000L / streams + rec.Packets[0].OffsetMicros;
        while (!stop.IsSet)
        {
            long now = Now();
            for (int s = 0; s < streams; s++)
            {
                for (int k = 0; k < 1000 && due[s] <= now; k++)
                {
                    lateness.Record(now - due[s]);
                    var p = rec.Packets[next[s]];
                    int index = s * 2 + p.Track;
                    if (receivers[index] is { } r && RtpPacketView.TryRead(rec.Stamp(p, loops[s], SsrcBase + (uint)index), out var packet))
                    {
                        r.OnRtp(packet, now);
                        timerDue[index] = r.NextTimeoutMicros(now);
                        packets++;
                    }
                    long offset = p.OffsetMicros;
                    if (++next[s] == rec.Packets.Length)
                    {
                        next[s] = 0;
                        loops[s]++;
                        offset -= rec.PeriodMicros;
                    }
                    due[s] += rec.Packets[next[s]].OffsetMicros - offset;
                }
            }
            for (int i = 0; i < receivers.Length; i++)
            {
                if (timerDue[i] <= now && receivers[i] is { } r)
                {
                    r.HandleTimeout(now);
                    timerDue[i] = r.NextTimeoutMicros(now);
                }
            }
            // The engine's MediaLoop waits in poll(2) for at most 5 ms; so does this. A wake costs ~40-45 µs
            // of CPU on this VM either way (Thread.Sleep's ~10% more): 0.18 CPU-s per 20 s for the process.
            poll(0, 0, 5);
        }
        return packets;
    }

    [LibraryImport("libc.so.6")] private static partial int poll(nint fds, nuint count, int timeoutMillis);

    private static long Now() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

    // The engine's MediaLoop shape: poll, drain what is queued without allocating, fire timers.
    private static long Receive(Socket socket, RtpReceiveStream?[] receivers, ManualResetEventSlim stop, ref long unknown)
    {
        var buffer = new byte[2048];
        var from = new SocketAddress(AddressFamily.InterNetwork);
        long packets = 0, nextTimers = 0;
        while (!stop.IsSet)
        {
            long now = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);
            if (now >= nextTimers)
            {
                foreach (var r in receivers)
                    r?.HandleTimeout(now);
                nextTimers = now + 5_000;
            }
            if (!socket.Poll(5_000, SelectMode.SelectRead))
                continue;
            for (int i = 0; i < 256; i++)
            {
                int n;
                try
                {
                    if (i > 0 && socket.Available == 0)
                        break;
                    n = socket.ReceiveFrom(buffer, SocketFlags.None, from);
                }
                catch (SocketException)
                {
                    break;
                }
                now = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);
                if (!RtpPacketView.TryRead(buffer.AsSpan(0, n), out var packet))
                    continue;
                packets++;
                uint index = packet.Ssrc - SsrcBase;
                if (index < (uint)receivers.Length && receivers[index] is { } r)
                    r.OnRtp(packet, now);
                else if (index >= (uint)receivers.Length)
                    unknown++;
            }
        }
        return packets;
    }
}
