using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Engine.Rtp.Send;
using Xunit.Abstractions;

namespace Engine.Rtp.Tests.Send;

/// <summary>What we packetize and send, received and decoded by an independent implementation: ffmpeg's RTP/SDP demuxer and H.264 decoder.</summary>
public class FfmpegInteropTests(ITestOutputHelper output)
{
    private static string? FindFfmpeg() => new[] { "/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg" }.FirstOrDefault(File.Exists);

    [Theory]
    [InlineData("baseline-320x240.h264", 320, 240, H264Packetizer.DefaultMaxPayloadSize)]
    [InlineData("main-640x360.h264", 640, 360, 400)] // small payloads: FU-A everywhere
    public async Task FfmpegDecodesEveryFrameWeSendOverUdp(string file, int width, int height, int maxPayload)
    {
        var ffmpeg = FindFfmpeg();
        Assert.True(ffmpeg != null, "ffmpeg is missing: tests/run.sh installs it (Debian package ffmpeg)");
        var aus = SendTestData.AccessUnits(file);
        int port = FreePortPair();
        string dir = Path.Combine(Path.GetTempPath(), $"sendpath-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string sdp = Path.Combine(dir, "in.sdp");
        File.WriteAllText(sdp, $"""
            v=0
            o=- 0 0 IN IP4 127.0.0.1
            s=sendpath
            c=IN IP4 127.0.0.1
            t=0 0
            m=video {port} RTP/AVP 96
            a=rtpmap:96 H264/90000
            a=fmtp:96 packetization-mode=1

            """.Replace("\r", ""));
        var psi = new ProcessStartInfo(ffmpeg!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Decode the first aus.Count frames; we send the stream twice, so the last of them is followed by more data.
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdp,
                     "-map", "0:v", "-frames:v", aus.Count.ToString(), "-f", "framecrc", "-" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            WaitForUdpListener(port, process);
            var history = new SendHistory();
            var stream = new RtpSendStream(new RtpSendStreamOptions { Ssrc = 0x5EED, PayloadType = 96, Seed = 5 },
                new LeavingPacketStamper(2, 3, history));
            var packetizer = new H264Packetizer(maxPayload);
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            var target = new IPEndPoint(IPAddress.Loopback, port);
            var buffer = new byte[1500];
            long now = 0;
            int packets = 0;
            for (int round = 0; round < 2 && !process.HasExited; round++)
            {
                for (int i = 0; i < aus.Count; i++)
                {
                    int frame = round * aus.Count + i;
                    stream.WriteH264(packetizer, SendTestData.AnnexB(aus[i]), (uint)(frame * 6000), now);
                    for (int guard = 0; guard < 10_000 && stream.Pacer.QueuedPackets > 0; guard++)
                    {
                        if (stream.TryPollPacket(buffer, now, out int n))
                        {
                            udp.Send(buffer, n, target);
                            packets++;
                        }
                        else
                            now += 1000;
                    }
                    now += 66_666;
                    Thread.Sleep(3); // keep well inside the receiver's socket buffer
                }
            }
            if (!process.WaitForExit(30_000))
                process.Kill(entireProcessTree: true);
            process.WaitForExit(5_000);
            string crc = await stdout.WaitAsync(TimeSpan.FromSeconds(5));
            string err = await stderr.WaitAsync(TimeSpan.FromSeconds(5));
            var received = FrameCrcs(crc);
            output.WriteLine($"{file}: {aus.Count} frames in {packets} packets sent (twice), ffmpeg decoded {received.Count}; stderr: {err}");
            Assert.Contains($"#dimensions 0: {width}x{height}", crc);
            Assert.Equal(packets, history.Recorded);
            // The pictures are the ones ffmpeg decodes from the file itself, in order: no frame broken or lost.
            var reference = FrameCrcs(Run(ffmpeg!, "-hide_banner", "-nostdin", "-v", "error", "-i", Video.H264TestData.PathOf(file), "-f", "framecrc", "-"));
            Assert.Equal(aus.Count, reference.Count);
            Assert.Equal(reference, received);
            Assert.Equal("", err.Trim());
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The size and CRC columns of framecrc's frame lines.</summary>
    private static List<string> FrameCrcs(string framecrc) =>
        framecrc.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => string.Join(",", l.Split(',').TakeLast(2)).Trim()).ToList();

    private static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(30_000))
            p.Kill(entireProcessTree: true);
        Assert.True(text.Wait(TimeSpan.FromSeconds(5)));
        return text.Result;
    }

    /// <summary>An even port with the next one free too (RTP and RTCP), bounded attempts.</summary>
    private static int FreePortPair()
    {
        var random = new Random();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int port = random.Next(20_000, 60_000) & ~1;
            try
            {
                using var a = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                using var b = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                a.Bind(new IPEndPoint(IPAddress.Loopback, port));
                b.Bind(new IPEndPoint(IPAddress.Loopback, port + 1));
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free UDP port pair");
    }

    /// <summary>Waits (at most 15 s) until a socket is bound to <paramref name="port"/>: sending earlier would be lost.</summary>
    private static void WaitForUdpListener(int port, Process process)
    {
        string hex = $":{port:X4} ";
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15) && !process.HasExited)
        {
            foreach (var table in new[] { "/proc/net/udp", "/proc/net/udp6" })
                if (File.Exists(table) && File.ReadLines(table).Skip(1).Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].EndsWith(hex.Trim(), StringComparison.Ordinal)))
                    return;
            Thread.Sleep(20);
        }
        Assert.Fail($"ffmpeg did not bind UDP port {port} within 15 s (exited: {process.HasExited})");
    }
}
