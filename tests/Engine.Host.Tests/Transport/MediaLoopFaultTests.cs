using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Host.Transport;
using Engine.Ice;

namespace Engine.Host.Tests.Transport;

/// <summary>
/// Issue 14 §4 on the real loop: a STUN flood with a known ufrag and a wrong password holds the
/// loop's memory and timer structure flat, and a send buffer the kernel reports full (EAGAIN) is
/// counted, never thrown.
/// </summary>
public sealed partial class MediaLoopFaultTests
{
    /// <summary>A <see cref="Peer"/> behind the loop's contract, as PlaySession puts one there.</summary>
    private sealed class PeerSession(Peer peer, string ufrag) : IMediaSession
    {
        public Peer Peer => peer;
        public string LocalUfrag => ufrag;
        public NetAddress? SelectedRemote => peer.Route;
        public bool IsClosed => peer.State == PeerState.Closed;
        public long NextTimeoutMicros => peer.NextTimeoutMicros;
        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros) => peer.HandleDatagram(datagram, from, nowMicros);
        public void HandleTimeout(long nowMicros) => peer.HandleTimeout(nowMicros);
        public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to) => peer.TryPollTransmit(destination, out length, out to);
        public void OnRemoved() => peer.Dispose();
    }

    private static PeerSession NewPlayer(string ufrag, DtlsCertificate cert, DtlsCertificate remote) =>
        new(new Peer(new PeerConfig
        {
            Role = PeerRole.IceLiteServer,
            LocalUfrag = ufrag, LocalPwd = "the-right-password-0123456789", RemoteUfrag = "brws",
            Certificate = cert, RemoteFingerprint = remote.Fingerprint,
            SendTracks = [new PeerSendTrack { Mid = "0", Ssrc = 0x5151, PayloadType = 96, Codec = Engine.Rtp.Media.MediaCodec.H264 }],
        }, MediaLoop.NowMicros()), ufrag);

    /// <summary>Binding requests (RFC 8445 §7.2.2) to <paramref name="ufrag"/> from <paramref name="remoteUfrag"/>, signed with a password that is not its own.</summary>
    internal static byte[][] WrongPasswordChecks(string ufrag, int count, string remoteUfrag = "brws")
    {
        var checks = new byte[count][];
        var tid = new byte[12];
        var random = new Random(14);
        for (int i = 0; i < count; i++)
        {
            var buf = new byte[256];
            random.NextBytes(tid);
            var w = new StunMessageWriter(buf, StunMethod.Binding, StunClass.Request, tid);
            w.AddUsername(Encoding.ASCII.GetBytes(ufrag + ":" + remoteUfrag));
            w.AddPriority(1845501695);
            w.AddIceControlling(7);
            w.AddUseCandidate();
            w.AddMessageIntegrity(Encoding.ASCII.GetBytes("not-the-password-0123456789"));
            w.AddFingerprint();
            Assert.False(w.Failed);
            checks[i] = buf[..w.Length];
        }
        return checks;
    }

    private static void WaitFor(Func<bool> condition, int millis = 5000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition() && sw.ElapsedMilliseconds < millis)
            Thread.Sleep(5);
        Assert.True(condition());
    }

    [Fact]
    public void AWrongPasswordFloodThroughTheLoopIsCountedAndHoldsMemoryAndTimersFlat()
    {
        using var serverCert = DtlsCertificate.Generate();
        using var browserCert = DtlsCertificate.Generate();
        using var loop = new MediaLoop(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var players = new[] { NewPlayer("flood", serverCert, browserCert), NewPlayer("idle1", serverCert, browserCert), NewPlayer("idle2", serverCert, browserCert) };
        loop.Start();
        foreach (var p in players)
            loop.Add(p);
        WaitFor(() => loop.SessionCount == 3);
        var checks = WrongPasswordChecks("flood", 256);
        long sent = 0;
        void Flood(int count)
        {
            for (int i = 0; i < count; i++)
            {
                client.SendTo(checks[i % checks.Length], loop.LocalEndPoint);
                sent++;
                // Stay under the loop's receive buffer: a kernel drop would hide nothing, but would blur the count.
                if (sent % 256 == 0)
                    WaitFor(() => loop.Counters.DatagramsReceived >= sent - 2048);
            }
            WaitFor(() => loop.Counters.DatagramsReceived == sent);
            Thread.Sleep(30); // a few more wake-ups publish the loop's figures
        }
        Flood(2_000); // warm-up
        long allocatedBefore = loop.AllocatedBytes;
        Flood(30_000);
        long allocated = loop.AllocatedBytes - allocatedBefore;
        var flooded = players[0].Peer;
        Console.WriteLine($"loop flood: {sent} checks, {allocated} bytes allocated by the loop over 30000, timer entries {loop.TimerEntries}, " +
            $"bad integrity {flooded.IceLite!.Counters[IceCheckResult.BadIntegrity]}");
        Assert.Equal(sent, loop.Counters.DatagramsReceived);
        Assert.Equal(sent, flooded.IceLite.Counters[IceCheckResult.BadIntegrity]); // every one counted, none answered
        Assert.Equal(0, loop.Counters.DatagramsSent);
        Assert.Null(flooded.Route); // no path selected by an unauthenticated check
        Assert.InRange(loop.TimerEntries, 1, 3); // at most one entry per session, not one per datagram
        Assert.InRange(allocated, 0, 16 * 1024); // one object per datagram would be 30000 x 24 B at least
        Assert.Equal(0, loop.Counters.SessionFaults);
        Assert.Equal(3, loop.SessionCount);
    }

    /// <summary>After one check, queues <see cref="Burst"/> datagrams of 1200 B to its sender, once.</summary>
    private sealed class BurstSession(string ufrag) : IMediaSession
    {
        public const int Burst = 9000;
        private int _left = -1;
        public string LocalUfrag => ufrag;
        public NetAddress? SelectedRemote { get; private set; }
        public bool IsClosed => false;
        public long NextTimeoutMicros => long.MaxValue;
        public int Handled;

        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
        {
            Handled++;
            if (_left < 0)
            {
                SelectedRemote = from;
                _left = Burst;
            }
        }

        public void HandleTimeout(long nowMicros) { }

        public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to)
        {
            length = 0;
            to = default;
            if (_left <= 0 || SelectedRemote is not { } remote)
                return false;
            _left--;
            destination[..1200].Fill(0x80);
            (length, to) = (1200, remote);
            return true;
        }

        public void OnRemoved() { }
    }

    [LibraryImport("libc.so.6", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nsType);

    private const int CloneNewNet = 0x40000000;

    private static void Run(string file, string arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(10_000), $"{file} {arguments}: no exit");
        Assert.True(p.ExitCode == 0, $"{file} {arguments}: exit {p.ExitCode}: {err}");
    }

    [Fact]
    public void AFullSendBufferIsCountedWithoutAnException()
    {
        // A full UDP send buffer needs packets that wait below the socket: loopback frees them at
        // once, so the loop's socket lives in a network namespace of its own whose lo has a 1 Mbit/s
        // token bucket in front (tc tbf, large limit: it queues, never drops). Needs root and iproute2.
        string ns = $"engine-sndbuf-{Environment.ProcessId}";
        Run("ip", $"netns add {ns}");
        MediaLoop? loop = null;
        Socket? client = null;
        int loopExceptions = 0;
        EventHandler<FirstChanceExceptionEventArgs> onThrow = (_, _) =>
        {
            if (Thread.CurrentThread.Name == "media-loop") Interlocked.Increment(ref loopExceptions);
        };
        try
        {
            Run("ip", $"netns exec {ns} ip link set lo up");
            Run("ip", $"netns exec {ns} tc qdisc add dev lo root tbf rate 1mbit burst 10kb limit 64mb");
            Exception? error = null;
            // setns(2) moves only the calling thread: sockets made there stay in the namespace.
            var t = new Thread(() =>
            {
                try
                {
                    using var h = File.OpenHandle($"/var/run/netns/{ns}");
                    if (SetNs((int)h.DangerousGetHandle(), CloneNewNet) != 0)
                        throw new InvalidOperationException("setns: errno " + Marshal.GetLastPInvokeError());
                    loop = new MediaLoop(new IPEndPoint(IPAddress.Loopback, 0));
                    client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                }
                catch (Exception e)
                {
                    error = e;
                }
            });
            t.Start();
            Assert.True(t.Join(10_000));
            Assert.Null(error);
            var s = new BurstSession("burst");
            AppDomain.CurrentDomain.FirstChanceException += onThrow;
            loop!.Start();
            loop.Add(s);
            WaitFor(() => loop.SessionCount == 1);
            var check = WrongPasswordChecks("burst", 1)[0];
            client!.SendTo(check, loop.LocalEndPoint);
            WaitFor(() => loop.Counters.DatagramsSent + loop.Counters.SendErrors == BurstSession.Burst);
            Console.WriteLine($"full send buffer: {loop.Counters.DatagramsSent} sent, {loop.Counters.SendErrors} refused (EAGAIN) of {BurstSession.Burst}, {loop.Counters.SendCalls} batches");
            Assert.True(loop.Counters.SendErrors > 0, "the send buffer never filled");
            Assert.True(loop.Counters.DatagramsSent > 0);
            // The loop carries on (its commands still run; input would wait ~30 s behind the bucket's queue on lo).
            loop.Add(new BurstSession("second"));
            WaitFor(() => loop.SessionCount == 2);
            Assert.Equal(0, loop.Counters.SessionFaults);
            Assert.Equal(0, loopExceptions); // EAGAIN is a return code, not a SocketException
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= onThrow;
            loop?.Dispose();
            client?.Dispose();
            Run("ip", $"netns del {ns}");
        }
    }
}
