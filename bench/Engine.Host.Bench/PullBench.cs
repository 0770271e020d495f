using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Pull;
using Engine.Host.Sessions;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp.Media;

namespace Engine.Host.Bench;

/// <summary>
/// A measured harness (not BenchmarkDotNet: the work is threads and sockets over seconds): CPU of
/// the RTMP pull path (issue 15) in this process, against nginx-rtmp on loopback fed by ffmpeg
/// copying a pre-encoded file (`-c copy`, so the pushers cost little and are not counted). N pulls
/// on their own threads, their feeds and players driven on this thread as the media loop would;
/// players are send-only Peers handshaken in memory whose route is a loopback socket bound and
/// never read. The legacy design, one ffmpeg per player pulling RTMP and sending RTP, is measured
/// in the same run. Prints a Markdown table. Usage: `-- pull [seconds]`.
/// </summary>
internal static class PullBench
{
    private const string Module = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
    private static double _seconds = 6;
    private static double _oneStream; // this mode's CPU at one stream and no player: what a player adds is above it

    public static int Run(string[] args)
    {
        if (args.Length > 0)
            _seconds = double.Parse(args[0], CultureInfo.InvariantCulture);
        string dir = Directory.CreateTempSubdirectory("engine-pullbench-").FullName;
        var procs = new List<Process>();
        try
        {
            int port = FreeTcpPort();
            procs.Add(StartNginx(dir, port));
            string baseline = Encode(dir, "cb.flv", "-c:v libx264 -profile:v baseline -preset veryfast -tune zerolatency -bf 0 -g 30");
            string bframes = Encode(dir, "bf.flv", "-c:v libx264 -profile:v high -preset veryfast -bf 2 -g 30");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}; {_seconds} s windows");
            Console.WriteLine("| what | streams | players | CPU (% of a core) | per stream | per added player |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            double idle = Measure(() => Drive([], [], null!, TimeSpan.FromSeconds(_seconds)), []).Ours;
            Console.WriteLine($"| idle loop (1 ms ticks, subtracted below) | 0 | 0 | {idle:F1} | | |");
            foreach (var (name, file) in new[] { ("pass-through", baseline), ("transcode (B-frames + AAC)", bframes) })
            {
                foreach (int n in new[] { 1, 10, 50 })
                {
                    if (name.StartsWith("transcode") && n == 50 && Environment.ProcessorCount < 8)
                    {
                        Console.WriteLine($"| {name} | 50 | 0 | not run: 50 transcodes of 640x480 need more than this machine's {Environment.ProcessorCount} cores | | |");
                        continue;
                    }
                    RunPulls(name, file, port, n, procs, players: 0, idle);
                }
                foreach (int p in new[] { 1, 10, 50 })
                    RunPulls(name, file, port, 1, procs, players: p, idle);
                foreach (int p in new[] { 1, 10 })
                    RunLegacy(name, file, port, p, procs, transcode: name.StartsWith("transcode"));
            }
            return 0;
        }
        finally
        {
            foreach (var p in procs)
                Kill(p);
            Directory.Delete(dir, true);
        }
    }

    private static void RunPulls(string name, string file, int port, int n, List<Process> procs, int players, double idle)
    {
        var pushers = Enumerable.Range(0, n).Select(i => Push(file, port, $"b{i}")).ToList();
        procs.AddRange(pushers);
        Thread.Sleep(2500 + 50 * n); // nginx has the streams once the pushers' first GOP is in (many pushers start slower on a loaded machine)
        var pulls = new List<RtmpPull>();
        var feeds = new List<PullFeed>();
        using var sinks = new Sinks();
        var playerList = new List<PullPlayer>();
        try
        {
            for (int i = 0; i < n; i++)
            {
                var pull = RtmpPull.Create($"b{i}", $"rtmp://127.0.0.1:{port}/live/b{i}")!;
                pull.Start();
                pulls.Add(pull);
                feeds.Add(new PullFeed(pull, _ => { }, MediaLoop.NowMicros()));
            }
            for (int i = 0; i < n; i++)
            {
                // A pusher not yet in (a loaded machine): pull it again, three tries.
                for (int attempt = 1; !pulls[i].WaitSettled(TimeSpan.FromSeconds(10)); attempt++)
                {
                    if (attempt == 3)
                        throw new InvalidOperationException($"pull {pulls[i].Stream}: {pulls[i].Error}");
                    feeds[i].OnRemoved();
                    pulls[i] = RtmpPull.Create($"b{i}", $"rtmp://127.0.0.1:{port}/live/b{i}")!;
                    pulls[i].Start();
                    feeds[i] = new PullFeed(pulls[i], _ => { }, MediaLoop.NowMicros());
                }
            }
            for (int i = 0; i < players; i++)
                playerList.Add(sinks.Connect(feeds[0], i));
            Drive(feeds, playerList, sinks, TimeSpan.FromSeconds(2)); // warm: GOP cache, JIT, replays
            long sentBefore = sinks.Sent;
            var m = Measure(() => Drive(feeds, playerList, sinks, TimeSpan.FromSeconds(_seconds)), []);
            long frames = pulls.Sum(p => Interlocked.Read(ref p.VideoFrames));
            double ours = m.Ours - idle;
            string transcoded = pulls[0].VideoTranscoded ? $", {pulls.Sum(p => Interlocked.Read(ref p.VideoFramesTranscoded)) / (_seconds + 2) / n:F0} frames/s transcoded a stream" : "";
            if (n == 1 && players == 0)
                _oneStream = ours;
            Console.WriteLine($"| engine: {name}{(players > 0 ? $", {(sinks.Sent - sentBefore) / _seconds:F0} datagrams/s sent" : "")}{transcoded} | {n} | {players} | {ours:F1} | {ours / n:F2} | {(players > 0 ? ((ours - _oneStream) / players).ToString("F2", CultureInfo.InvariantCulture) : "")} |");
            if (frames == 0 || pulls.Any(p => p.State != PullState.Ready))
                Console.WriteLine($"  (warning: {string.Join(", ", pulls.Where(p => p.State != PullState.Ready).Select(p => p.Stream + " " + p.Error))})");
        }
        finally
        {
            foreach (var p in playerList)
            {
                p.RequestClose("bench");
                p.HandleTimeout(MediaLoop.NowMicros());
                p.OnRemoved();
            }
            foreach (var f in feeds)
                f.OnRemoved();
            foreach (var p in pushers)
            {
                Kill(p);
                procs.Remove(p);
            }
        }
    }

    private static void RunLegacy(string name, string file, int port, int players, List<Process> procs, bool transcode)
    {
        var pusher = Push(file, port, "legacy");
        procs.Add(pusher);
        Thread.Sleep(2500);
        using var sinks = new Sinks();
        var ffmpegs = new List<Process>();
        try
        {
            string video = transcode ? "-c:v libx264 -preset ultrafast -tune zerolatency -profile:v baseline -b:v 1500k -g 30" : "-c:v copy";
            for (int i = 0; i < players; i++)
            {
                int vp = sinks.Port(), ap = sinks.Port();
                var p = Start("ffmpeg", $"-v error -nostdin -i rtmp://127.0.0.1:{port}/live/legacy -map 0:v {video} -f rtp rtp://127.0.0.1:{vp} " +
                    $"-map 0:a -c:a libopus -ar 48000 -b:a 64k -f rtp rtp://127.0.0.1:{ap}");
                ffmpegs.Add(p);
                procs.Add(p);
            }
            Thread.Sleep(3000); // their probe of the stream
            var m = Measure(() => Thread.Sleep(TimeSpan.FromSeconds(_seconds)), ffmpegs);
            Console.WriteLine($"| legacy: one ffmpeg per player, {name}{(ffmpegs.Any(f => f.HasExited) ? " (some exited!)" : "")} | 1 | {players} | {m.Others:F1} | {m.Others:F2} | {m.Others / players:F2} (each) |");
        }
        finally
        {
            foreach (var p in ffmpegs.Append(pusher))
            {
                Kill(p);
                procs.Remove(p);
            }
        }
    }

    /// <summary>This thread as the media loop: feeds and players when due, datagrams to their sockets, 1 ms ticks.</summary>
    private static void Drive(List<PullFeed> feeds, List<PullPlayer> players, Sinks sinks, TimeSpan duration)
    {
        var buffer = new byte[1500];
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            long now = MediaLoop.NowMicros();
            foreach (var f in feeds)
                if (!f.IsClosed && f.NextTimeoutMicros <= now)
                    f.HandleTimeout(now);
            foreach (var p in players)
            {
                if (p.NextTimeoutMicros <= now)
                    p.HandleTimeout(now);
                while (p.TryPollTransmit(buffer, out int n, out var to))
                    sinks.Send(buffer.AsSpan(0, n), to);
            }
            Thread.Sleep(1);
        }
    }

    private readonly record struct Cpu(double Ours, double Others);

    /// <summary>Percent of a core over the action: this process, and the given other processes summed.</summary>
    private static Cpu Measure(Action action, List<Process> others)
    {
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var before = self.TotalProcessorTime;
        var othersBefore = others.Select(CpuOf).ToList();
        var sw = Stopwatch.StartNew();
        action();
        double wall = sw.Elapsed.TotalSeconds;
        self.Refresh();
        double ours = (self.TotalProcessorTime - before).TotalSeconds / wall * 100;
        double theirs = others.Select((p, i) => CpuOf(p) - othersBefore[i]).Sum() / wall * 100;
        return new Cpu(ours, theirs);
    }

    private static double CpuOf(Process p)
    {
        try
        {
            p.Refresh();
            return p.TotalProcessorTime.TotalSeconds;
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }

    /// <summary>Players' routes: loopback sockets bound and never read, and one socket sending to them.</summary>
    private sealed class Sinks : IDisposable
    {
        private static readonly NetAddress ServerAddress = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 3478));
        private readonly List<Socket> _sockets = new();
        private readonly Socket _sender = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate(), _clientCert = DtlsCertificate.Generate();
        public long Sent;

        public int Port()
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4096 };
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _sockets.Add(s);
            return ((IPEndPoint)s.LocalEndPoint!).Port;
        }

        public void Send(ReadOnlySpan<byte> datagram, in NetAddress to)
        {
            try
            {
                _sender.SendTo(datagram, SocketFlags.None, to.ToIPEndPoint());
                Sent++;
            }
            catch (SocketException)
            {
            }
        }

        /// <summary>A player of the feed (video and audio), handshaken in memory against a client Peer.</summary>
        public PullPlayer Connect(PullFeed feed, int i)
        {
            var clientAddress = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, Port()));
            string su = $"s{i:x6}", cu = $"c{i:x6}";
            const string sp = "server-password-0123456789", cp = "client-password-0123456789";
            long now = MediaLoop.NowMicros();
            var player = new PullPlayer($"p{i}", feed.Pull.Stream, "bench", feed, new PeerConfig
            {
                Role = PeerRole.IceLiteServer,
                LocalUfrag = su, LocalPwd = sp, RemoteUfrag = cu,
                Certificate = _serverCert, RemoteFingerprint = _clientCert.Fingerprint,
                SendTracks =
                [
                    new PeerSendTrack { Mid = "0", Ssrc = 0x10000u + (uint)i, PayloadType = 96, Codec = MediaCodec.H264, RtxSsrc = 0x20000u + (uint)i, RtxPayloadType = 97 },
                    new PeerSendTrack { Mid = "1", Ssrc = 0x30000u + (uint)i, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
                ],
                AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
                ConsentTimeoutMicros = long.MaxValue / 4, // nobody refreshes consent during the run
                Seed = 1000 + i,
            }, [new PlayTrack("0", MediaKind.Video, "H264", 0, 96, 90000, 0x10000u + (uint)i, 0x20000u + (uint)i, 97),
                new PlayTrack("1", MediaKind.Audio, "opus", 1, 111, 48000, 0x30000u + (uint)i, null, 0)], now);
            using var client = new Peer(new PeerConfig
            {
                Role = PeerRole.ControllingClient,
                LocalUfrag = cu, LocalPwd = cp, RemoteUfrag = su, RemotePwd = sp,
                RemoteCandidate = ServerAddress,
                Certificate = _clientCert, RemoteFingerprint = _serverCert.Fingerprint,
                ReceiveTracks =
                [
                    new PeerReceiveTrack { Mid = "0", Ssrc = 0x10000u + (uint)i, PayloadType = 96, Codec = MediaCodec.H264 },
                    new PeerReceiveTrack { Mid = "1", Ssrc = 0x30000u + (uint)i, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
                ],
                AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
                Seed = 5000 + i,
            }, now);
            var buffer = new byte[1500];
            for (int guard = 0; guard < 100_000 && !(client.State == PeerState.Connected && player.SelectedRemote != null && !player.IsClosed && guard > 10 && Settled(player)); guard++)
            {
                now = MediaLoop.NowMicros();
                if (player.NextTimeoutMicros <= now) player.HandleTimeout(now);
                if (client.NextTimeoutMicros <= now) client.HandleTimeout(now);
                while (client.TryPollTransmit(buffer, out int n, out _)) player.HandleDatagram(buffer.AsSpan(0, n), clientAddress, now);
                while (player.TryPollTransmit(buffer, out int n, out var to))
                {
                    if (to == clientAddress) client.HandleDatagram(buffer.AsSpan(0, n), ServerAddress, now);
                }
                while (client.TryPollEvent(out _)) { }
                Thread.Sleep(0);
            }
            if (client.State != PeerState.Connected)
                throw new InvalidOperationException($"player {i} did not connect");
            return player;
        }

        private static bool Settled(PullPlayer p) => p.NextTimeoutMicros > 0;

        public void Dispose()
        {
            foreach (var s in _sockets)
                s.Dispose();
            _sender.Dispose();
            _serverCert.Dispose();
            _clientCert.Dispose();
        }
    }

    private static string Encode(string dir, string name, string video)
    {
        string path = Path.Combine(dir, name);
        using var p = Start("ffmpeg", "-v error -nostdin -y -f lavfi -i testsrc2=size=640x480:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 10 " +
            $"{video} -pix_fmt yuv420p -c:a aac -b:a 64k -ac 2 -f flv {path}");
        if (!p.WaitForExit(120_000) || p.ExitCode != 0)
            throw new InvalidOperationException("ffmpeg could not make " + name);
        return path;
    }

    private static Process Push(string file, int port, string stream) =>
        Start("ffmpeg", $"-v error -nostdin -re -stream_loop -1 -i {file} -c copy -f flv rtmp://127.0.0.1:{port}/live/{stream}");

    private static Process StartNginx(string dir, int port)
    {
        if (!File.Exists(Module))
            throw new InvalidOperationException($"{Module} missing: apt-get install nginx libnginx-mod-rtmp");
        File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
            load_module {{Module}};
            daemon off;
            master_process off;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log error;
            events { worker_connections 1024; }
            rtmp { server { listen 127.0.0.1:{{port}}; application live { live on; record off; } } }
            """);
        var p = Start("nginx", $"-p {dir} -c {dir}/nginx.conf -e {dir}/error.log");
        Thread.Sleep(500);
        return p;
    }

    private static Process Start(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    private static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
                p.Kill(true);
            p.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        p.Dispose();
    }

    private static int FreeTcpPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
