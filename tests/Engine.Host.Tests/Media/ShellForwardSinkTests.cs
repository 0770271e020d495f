using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Engine.Host.Media;
using Engine.Host.Sessions;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Media;

/// <summary>The legacy RTP2RTMPSHELL mode: SDP file, script arguments, plain RTP forward, stop.</summary>
// Alone: the sink picks free ports by binding and closing them before ffmpeg binds them, and a socket
// of a test running in parallel (the playback tests open several) can take one in between.
[Collection("alone")]
[SupportedOSPlatform("linux")]
public sealed partial class ShellForwardSinkTests : IDisposable
{
    private const string H264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
    private const string OpusFmtp = "minptime=10;useinbandfec=1";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "shellfwd-" + Guid.NewGuid().ToString("N"));
    private readonly List<ShellForwardSink> _sinks = [];

    public ShellForwardSinkTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        foreach (var sink in _sinks)
            sink.Dispose();
        // Give the background stop a moment before the directory goes.
        Thread.Sleep(50);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Audio first, as Chromium offers it: the m-lines must follow track order, not "video first".</summary>
    private static SinkRequest Request(string stream = "live1", string session = "s1") => new(stream, session, false,
    [
        new TrackInfo(MediaCodec.Opus, 48000, 2, 111, OpusFmtp),
        new TrackInfo(MediaCodec.H264, 90000, 0, 102, H264Fmtp),
    ]);

    private ShellForwardSink Create(string script, SinkRequest? request = null, string rtmp = "rtmp://127.0.0.1/live/x", bool transcode = false)
    {
        var sink = new ShellForwardSink(script, rtmp, transcode, _dir, request ?? Request());
        _sinks.Add(sink);
        return sink;
    }

    private string Script(string name, string body, bool executable = true)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, executable
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static void WaitFor(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        long deadline = Environment.TickCount64 + timeoutMs;
        while (!condition() && Environment.TickCount64 < deadline)
            Thread.Sleep(20);
        Assert.True(condition(), what);
    }

    private static bool ProcessGone(int pid)
    {
        try
        {
            // The runtime reaps its children: an exited script leaves no /proc entry (a zombie would show "Z").
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static int[] Ports(string sdp) =>
        MLine().Matches(sdp).Select(m => int.Parse(m.Groups[1].Value)).ToArray();

    [GeneratedRegex(@"^m=(?:audio|video) (\d+) RTP/AVP", RegexOptions.Multiline)]
    private static partial Regex MLine();

    private static byte[] Rtp(byte payloadType, ushort sequence, byte fill, int payloadLength = 20)
    {
        var p = new byte[12 + payloadLength];
        p[0] = 0x80;
        p[1] = payloadType;
        p[2] = (byte)(sequence >> 8);
        p[3] = (byte)sequence;
        p[11] = 0x42;
        p.AsSpan(12).Fill(fill);
        return p;
    }

    [Fact]
    public void Sdp_H264AndOpus_OneMLinePerTrackInTrackOrder_EvenDistinctPorts()
    {
        var sink = Create(Path.Combine(_dir, "missing.sh"));
        string sdp = File.ReadAllText(sink.SdpPath);
        int[] ports = Ports(sdp);
        Assert.Equal(2, ports.Length);
        Assert.NotEqual(ports[0], ports[1]);
        Assert.All(ports, p => Assert.True(p > 0 && p % 2 == 0 && p < 65535, $"port {p} even"));
        // RTCP (port+1) must not collide with the other track's RTP port either.
        Assert.NotEqual(ports[0] + 1, ports[1]);
        Assert.NotEqual(ports[1] + 1, ports[0]);

        string expected =
            "v=0\r\n" +
            "o=- 0 0 IN IP4 127.0.0.1\r\n" +
            "s=live1\r\n" +
            "c=IN IP4 127.0.0.1\r\n" +
            "t=0 0\r\n" +
            $"m=audio {ports[0]} RTP/AVP 111\r\n" +
            "c=IN IP4 127.0.0.1\r\n" +
            "a=rtpmap:111 opus/48000/2\r\n" +
            $"a=fmtp:111 {OpusFmtp}\r\n" +
            "a=recvonly\r\n" +
            $"m=video {ports[1]} RTP/AVP 102\r\n" +
            "c=IN IP4 127.0.0.1\r\n" +
            "a=rtpmap:102 H264/90000\r\n" +
            $"a=fmtp:102 {H264Fmtp}\r\n" +
            "a=recvonly\r\n";
        Assert.Equal(expected, sdp);
    }

    [Fact]
    public void Sdp_NoFmtpLineWhenEmpty_AndNoLineInjection()
    {
        string sdp = PlainRtpSdp.Build("x\r\na=evil", [
            new TrackInfo(MediaCodec.Vp8, 90000, 0, 96),
            new TrackInfo(MediaCodec.Vp9, 90000, 0, 98, "profile-id=0\r\nm=audio 1 RTP/AVP 0"),
        ], [5000, 5002]);
        Assert.Contains("m=video 5000 RTP/AVP 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\na=recvonly\r\n", sdp);
        Assert.Contains("a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0m=audio 1 RTP/AVP 0\r\n", sdp);
        Assert.DoesNotContain("\na=evil", sdp);
        Assert.DoesNotContain("\nm=audio", sdp);
        Assert.Equal(2, Ports(sdp).Length);
    }

    [Theory]
    [InlineData("../../etc/passwd", "s1", "______etc_passwd-s1")]
    [InlineData("a b;rm -rf", "s1", "a_b_rm_-rf-s1")]
    [InlineData(".hidden", "../x", "_hidden-___x")]
    [InlineData("", "s/1", "_-s_1")]
    public void StreamName_IsSanitised_FilesStayInWorkDirectory(string stream, string session, string expectedBase)
    {
        var sink = Create(Path.Combine(_dir, "missing.sh"), Request(stream, session));
        string full = Path.GetFullPath(_dir);
        Assert.Equal(Path.Combine(full, expectedBase + ".sdp"), sink.SdpPath);
        Assert.Equal(Path.Combine(full, expectedBase + ".log"), sink.LogPath);
        Assert.Equal(full, Path.GetDirectoryName(sink.SdpPath));
        Assert.True(File.Exists(sink.SdpPath));
        Assert.Matches("^[A-Za-z0-9_-][A-Za-z0-9_.-]*$", Path.GetFileName(sink.SdpPath));
    }

    [Fact]
    public void EndToEnd_FakeScript_GetsFourArguments_ReceivesRtp_StopsOnEnd()
    {
        string argsFile = Path.Combine(_dir, "args.txt");
        string pwned = Path.Combine(_dir, "pwned");
        string script = Script("fake.sh", $"printf '%s\\n' \"$@\" >> {Quote(argsFile)}\necho from-stderr >&2\nexec sleep 30");
        // Shell metacharacters in the URL must reach the script as one literal argument.
        string url = $"rtmp://127.0.0.1/live/a b;touch {pwned} $(touch {pwned})";
        var sink = Create(script, rtmp: url, transcode: true);
        Assert.Equal("running", sink.State);
        Assert.NotNull(sink.ProcessId);
        int pid = sink.ProcessId!.Value;

        WaitFor(() => File.Exists(argsFile) && File.ReadAllLines(argsFile).Length >= 4, "script wrote its arguments");
        Assert.Equal(new[] { sink.SdpPath, url, "1", sink.LogPath }, File.ReadAllLines(argsFile));
        Assert.False(File.Exists(pwned), "the URL was interpreted by a shell");

        int[] ports = Ports(File.ReadAllText(sink.SdpPath));
        var receivers = ports.Select(p =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 3000 };
            s.Bind(new IPEndPoint(IPAddress.Loopback, p));
            return s;
        }).ToArray();
        try
        {
            var audio = Rtp(111, 1, 0xAA, 30);
            var video = Rtp(102, 7, 0xBB, 900);
            sink.OnRtpPacket(0, audio);
            sink.OnRtpPacket(1, video);
            var buffer = new byte[2048];
            int n = receivers[0].Receive(buffer);
            Assert.Equal(audio, buffer[..n]);
            n = receivers[1].Receive(buffer);
            Assert.Equal(video, buffer[..n]);
            Assert.Equal(2, sink.PacketsForwarded);
            Assert.Equal(0, sink.PacketsDropped);
            sink.OnRtpPacket(2, video);
            Assert.Equal(1, sink.PacketsDropped);
        }
        finally
        {
            foreach (var r in receivers)
                r.Dispose();
        }

        WaitFor(() => File.ReadAllText(sink.LogPath).Contains("from-stderr"), "stderr went to the log");
        sink.OnEnd();
        WaitFor(() => ProcessGone(pid), "script gone after OnEnd", 3000);
        WaitFor(() => sink.State.StartsWith("exited(", StringComparison.Ordinal) && sink.ProcessId == null, "state shows the exit", 3000);
        Assert.False(File.Exists(sink.SdpPath));
        Assert.True(File.Exists(sink.LogPath));
        sink.OnRtpPacket(0, Rtp(111, 2, 0));
        Assert.Equal(2, sink.PacketsForwarded);
        sink.Dispose();
        sink.OnEnd();
    }

    [Fact]
    public void NonExecutableScript_RunsThroughSh()
    {
        string argsFile = Path.Combine(_dir, "args-sh.txt");
        string script = Script("plain.sh", $"printf '%s\\n' \"$@\" >> {Quote(argsFile)}\nexec sleep 30", executable: false);
        var sink = Create(script);
        Assert.Equal("running", sink.State);
        WaitFor(() => File.Exists(argsFile) && File.ReadAllLines(argsFile).Length >= 4, "script wrote its arguments");
        Assert.Equal(new[] { sink.SdpPath, "rtmp://127.0.0.1/live/x", "0", sink.LogPath }, File.ReadAllLines(argsFile));
        int pid = sink.ProcessId!.Value;
        sink.Dispose();
        WaitFor(() => ProcessGone(pid), "script gone after Dispose", 3000);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScriptWithoutExec_ItsChildStopsToo(bool ignoreSigterm)
    {
        string pidFile = Path.Combine(_dir, "child.pid");
        // No exec: signalling only the shell would orphan the child (still streaming, in real life).
        // With TERM ignored (inherited by the child too) only the SIGKILL after the 2 s grace ends them.
        string script = Script("child.sh", (ignoreSigterm ? "trap '' TERM\n" : "") + $"sleep 30 &\necho $! > {Quote(pidFile)}\nwait");
        var sink = Create(script);
        int pid = sink.ProcessId!.Value;
        WaitFor(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), "child started");
        int child = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.False(ProcessGone(child));
        sink.OnEnd();
        WaitFor(() => ProcessGone(pid) && ProcessGone(child), "script and child gone", ignoreSigterm ? 8000 : 3000); // bounds, not timings: the grace is 2 s, and a loaded machine is slow to reap
    }

    [Fact]
    public void MissingScript_FailsWithoutThrowing()
    {
        var sink = Create(Path.Combine(_dir, "does-not-exist.sh"));
        Assert.StartsWith("failed", sink.State);
        Assert.Null(sink.ProcessId);
        sink.OnRtpPacket(0, Rtp(111, 1, 1));
        sink.OnRtpPacket(5, Rtp(111, 1, 1));
        sink.OnRtpPacket(-1, ReadOnlySpan<byte>.Empty);
        sink.OnFrame(0, default);
        Assert.Equal(0, sink.PacketsForwarded);
        Assert.Equal(3, sink.PacketsDropped);
        sink.OnEnd();
        sink.Dispose();
        Assert.False(File.Exists(sink.SdpPath));
        Assert.StartsWith("failed", sink.State);
    }

    [Fact]
    public void OnRtpPacket_DoesNotAllocate()
    {
        var sink = Create(Script("idle.sh", "exec sleep 30"));
        Assert.Equal("running", sink.State);
        var audio = Rtp(111, 1, 0x11, 80);
        var video = Rtp(102, 1, 0x22, 1100);
        for (int i = 0; i < 200; i++)
        {
            sink.OnRtpPacket(0, audio);
            sink.OnRtpPacket(1, video);
        }
        long forwarded = sink.PacketsForwarded;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
        {
            sink.OnRtpPacket(0, audio);
            sink.OnRtpPacket(1, video);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        // The sends really happened (not the drop path).
        Assert.Equal(forwarded + 1000, sink.PacketsForwarded);
    }

    [Fact]
    public void Constructor_ValidatesArguments()
    {
        Assert.Throws<ArgumentException>(() => new ShellForwardSink("", "rtmp://x", false, _dir, Request()));
        Assert.Throws<ArgumentNullException>(() => new ShellForwardSink("/bin/true", "rtmp://x", false, _dir, null!));
        Assert.Throws<ArgumentException>(() => new ShellForwardSink("/bin/true", "rtmp://x", false, _dir, new SinkRequest("s", "1", false, [])));
    }

    /// <summary>A fact that runs only where /usr/bin/ffmpeg is installed.</summary>
    private sealed class FfmpegFactAttribute : FactAttribute
    {
        public FfmpegFactAttribute()
        {
            if (!File.Exists("/usr/bin/ffmpeg"))
                Skip = "ffmpeg not installed";
        }
    }

    [FfmpegFact]
    public void RealFfmpeg_AcceptsTheSdp_AndKeepsRunningWhileFed()
    {
        string script = Script("ffmpeg.sh", "exec /usr/bin/ffmpeg -nostdin -v error -protocol_whitelist file,udp,rtp -i \"$1\" -c copy -f null -");
        var sink = Create(script);
        Assert.Equal("running", sink.State);
        int pid = sink.ProcessId!.Value;
        int[] ports = Ports(File.ReadAllText(sink.SdpPath));

        // ffmpeg binds each m-line's port once it has parsed the SDP; a rejected SDP makes it exit instead.
        WaitFor(() => sink.State != "running" || ports.All(PortTaken), "ffmpeg bound the SDP's ports", 10000); // a bound: ffmpeg starts slowly on a loaded machine
        Assert.True(sink.State == "running", $"ffmpeg exited: {sink.State}; log: {File.ReadAllText(sink.LogPath)}");

        for (ushort i = 0; i < 50; i++)
        {
            sink.OnRtpPacket(0, Rtp(111, i, 0xFC, 3));
            sink.OnRtpPacket(1, Rtp(102, i, 0x41, 200));
            Thread.Sleep(20);
        }
        Assert.True(sink.State == "running", $"ffmpeg exited: {sink.State}; log: {File.ReadAllText(sink.LogPath)}");
        Assert.Equal(100, sink.PacketsForwarded);
        sink.OnEnd();
        WaitFor(() => ProcessGone(pid), "ffmpeg gone after OnEnd", 6000);
    }

    private static bool PortTaken(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
