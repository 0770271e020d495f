using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Engine.Host.Peers;
using Engine.Host.Transport;
using Engine.Rtp;
using Engine.Rtp.Send;

namespace Engine.Host.Bench;

/// <summary>
/// Playback fan-out (issue 14 §4, bench/results/playback.md): one published RTP video packet that
/// came as a 1200-byte SRTP datagram (RTP 1184 B: 12 header, 12 of the publisher's extensions, 1160
/// payload; Chromium's largest in tests/fixtures are 1,192 B) forwarded to N connected players, each a <see cref="Peer"/> with its own SRTP keys.
/// The input packet is stored once in the track's <see cref="SharedPacketHistory"/>, as
/// PublishSession.Forward does; per player: <see cref="Peer.WriteRtp(int, SharedPacketHistory, long, long)"/>
/// (SSRC, sequence, timestamp rewritten; its header fields and the shared id kept in the send
/// stream's history, queued in its pacer) and <see cref="Peer.TryPollTransmit"/> until empty (released,
/// abs-send-time and transport-wide sequence stamped, SRTP-protected in the caller's buffer), the
/// player's timer read and run when due (RR 5/s, SR 1/s), as the media loop's flush does it. The
/// clock moves 1 ms per packet. <c>ForwardAndSend</c> polls straight into a <see cref="UdpBatch"/>
/// and sends with sendmmsg(2), 64 datagrams a call, the last partial batch at the end of each input
/// packet (the worst case: one input packet per wake-up). <c>ForwardOwnCopy</c> is <c>Forward</c>
/// with each player copying the packet into its own history (the path before the shared history;
/// the players are <see cref="PeerSendTrack.ForwardOnly"/>, so their own slots come at its first packet).
/// Reported per packet per player; the cleanup prints history and managed heap bytes per player.
/// Run in process (BenchmarkDotNet's own build of the Host times out on a loaded machine):
/// <c>--filter '*Fanout*' '*SrtpProtectBaseline*' --inProcess --launchCount 1 --warmupCount 3 --iterationCount 10</c>.
/// </summary>
[MemoryDiagnoser]
public class FanoutBenchmarks
{
    /// <summary>Player-packets per invocation: 1000 / N input packets, each to all N players.</summary>
    private const int PlayerPackets = 1000;
    private const int BatchSize = 64; // as MediaLoop

    private FanoutPlayers _players = null!;
    private SharedPacketHistory _history = null!;
    private readonly byte[] _packet = new byte[1184];
    private readonly byte[] _scratch = new byte[1500];
    private UdpBatch _tx = null!;
    private Socket _socket = null!;
    private long _now;
    private ushort _seq = 1000;
    private uint _timestamp = 90_000;
    private long _sendCalls, _sendErrors, _datagramsSent, _mediaPacketsOut, _packetsIn;
    private long _cpuNanos, _playerPackets;

    [Params(1, 10, 100, 1000)]
    public int Players { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _players = new FanoutPlayers(Players, 1_000_000);
        _history = new SharedPacketHistory(1024, Peer.MaxSendPacketSize - RtpPacketView.FixedHeaderLength); // as PublishSession's per video track
        _now = _players.Now;
        // The publisher's abs-send-time (id 2) and transport-wide sequence (id 4) in a one-byte
        // extension block (RFC 8285 §4.2), dropped on the way; then an FU-A fragment of a non-IDR
        // slice (RFC 6184 §5.8): the middle of a frame. 1160 payload bytes; a player's send stream takes
        // 1164 at most (MaxPacketSize 1188 less its 24-byte header with our two extensions).
        _packet[0] = 0x90;
        _packet[1] = 102;
        BinaryPrimitives.WriteUInt32BigEndian(_packet.AsSpan(8), 0xabcdef01);
        BinaryPrimitives.WriteUInt16BigEndian(_packet.AsSpan(12), 0xBEDE);
        BinaryPrimitives.WriteUInt16BigEndian(_packet.AsSpan(14), 2);
        _packet[16] = 0x22;
        _packet[20] = 0x41;
        new Random(7).NextBytes(_packet.AsSpan(24));
        _packet[24] = 0x7c;
        _packet[25] = 0x01;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = 4 << 20, Blocking = false };
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _tx = new UdpBatch(BatchSize, MediaLoop.MaxDatagram);
        Console.WriteLine($"// fanout setup: {Players} players connected, SRTP profile 0x{_players.Profile:x4}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var p0 = _players.Peers[0];
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// fanout memory N={Players}: player 0's video history {p0.GetSendStream(0).HistoryBytes} B, " +
            $"shared history {_history.StorageBytes} B once, managed heap {heap / Players} B per player ({heap} B in all)");
        Console.WriteLine($"// fanout thread CPU N={Players}: {(double)_cpuNanos / _playerPackets:F1} ns per packet per player over {_playerPackets} player-packets (all invocations, pilot and warm-up included)");
        Console.WriteLine($"// fanout counters N={Players}: input packets {_packetsIn}, media datagrams out {_mediaPacketsOut}, " +
            $"sendmmsg calls {_sendCalls}, datagrams sent {_datagramsSent} (incl. RTCP), send errors {_sendErrors}, " +
            $"syscalls per media datagram {(_mediaPacketsOut == 0 ? 0 : (double)(_sendCalls + _sendErrors) / _mediaPacketsOut):F4}, " +
            $"player 0: rtp {p0.Counters.RtpSent} rtcp {p0.Counters.RtcpSent} refused {p0.Counters.WritesRefused} srtp failures {p0.Counters.SrtpFailures} state {p0.State}, " +
            $"paced {p0.Pacer != null} pacer dropped {p0.PacerDropped} probes {p0.ProbesSent} padding {p0.ProbePaddingSent}");
        _players.Dispose();
        _tx.Dispose();
        _socket.Dispose();
    }

    /// <summary>The publisher's next packet: its sequence number and (every 10 packets, 30 fps) timestamp move on; the last of a frame has the marker. Stored once in the shared history.</summary>
    private long NextInput()
    {
        _now += 1000;
        _seq++;
        if (_seq % 10 == 0)
            _timestamp += 3000;
        _packet[1] = (byte)(102 | (_seq % 10 == 9 ? 0x80 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(_packet.AsSpan(2), _seq);
        BinaryPrimitives.WriteUInt32BigEndian(_packet.AsSpan(4), _timestamp);
        _packetsIn++;
        return _history.Store(_packet);
    }

    [Benchmark(OperationsPerInvoke = PlayerPackets, Description = "rewrite+enqueue+stamp+SRTP+poll, per packet per player")]
    public long Forward()
    {
        long cpu = ThreadCpu.Nanos();
        var peers = _players.Peers;
        long out_ = 0;
        for (int k = PlayerPackets / peers.Length; k > 0; k--)
        {
            long id = NextInput();
            long now = _now;
            foreach (var peer in peers)
            {
                peer.WriteRtp(0, _history, id, now);
                if (peer.NextTimeoutMicros <= now)
                    peer.HandleTimeout(now);
                while (peer.TryPollTransmit(_scratch, out _, out _))
                    out_++;
            }
        }
        _mediaPacketsOut += out_;
        _playerPackets += PlayerPackets / peers.Length * peers.Length;
        _cpuNanos += ThreadCpu.Nanos() - cpu;
        return out_;
    }

    [Benchmark(OperationsPerInvoke = PlayerPackets, Description = "the same, each player copying into its own history (before), per packet per player")]
    public long ForwardOwnCopy()
    {
        long cpu = ThreadCpu.Nanos();
        var peers = _players.Peers;
        long out_ = 0;
        for (int k = PlayerPackets / peers.Length; k > 0; k--)
        {
            NextInput(); // stored in the shared history too, unused: the same work outside the players
            long now = _now;
            foreach (var peer in peers)
            {
                peer.WriteRtp(0, _packet, now);
                if (peer.NextTimeoutMicros <= now)
                    peer.HandleTimeout(now);
                while (peer.TryPollTransmit(_scratch, out _, out _))
                    out_++;
            }
        }
        _mediaPacketsOut += out_;
        _playerPackets += PlayerPackets / peers.Length * peers.Length;
        _cpuNanos += ThreadCpu.Nanos() - cpu;
        return out_;
    }

    [Benchmark(OperationsPerInvoke = PlayerPackets, Description = "the same + sendmmsg to loopback (64 a call), per packet per player")]
    public long ForwardAndSend()
    {
        long cpu = ThreadCpu.Nanos();
        var peers = _players.Peers;
        long out_ = 0;
        for (int k = PlayerPackets / peers.Length; k > 0; k--)
        {
            long id = NextInput();
            long now = _now;
            foreach (var peer in peers)
            {
                peer.WriteRtp(0, _history, id, now);
                if (peer.NextTimeoutMicros <= now)
                    peer.HandleTimeout(now);
                while (true)
                {
                    if (_tx.Count == _tx.Capacity)
                        Send();
                    if (!peer.TryPollTransmit(_tx.NextBuffer, out int length, out var to))
                        break;
                    _tx.TryAdd(length, to, ipv6Socket: false);
                    out_++;
                }
            }
            Send(); // the loop flushes at the end of each input batch
        }
        _mediaPacketsOut += out_;
        _playerPackets += PlayerPackets / peers.Length * peers.Length;
        _cpuNanos += ThreadCpu.Nanos() - cpu;
        return out_;
    }

    private void Send()
    {
        if (_tx.Count == 0)
            return;
        _datagramsSent += _tx.Send(_socket.SafeHandle, out int errors);
        _sendCalls++;
        _sendErrors += errors; // each error costs one more sendmmsg call (UdpBatch skips and retries)
    }
}
