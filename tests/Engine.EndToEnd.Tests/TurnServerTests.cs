using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 17's proof with coturn's own clients against our TURN server in artifacts/engine:
/// turnutils_uclient through a turnutils_peer echo peer on loopback (allowed by allowed-peer-ip),
/// over UDP, TCP and TLS, with channels and with Send indications, as a static user and with the
/// REST secret; TCP allocations (RFC 6062, -T) over TCP and TLS; and turnutils_stunclient for a
/// Binding. 20 clients × 1000 messages (10 with -T), 0 lost.
/// </summary>
[Collection("turn")]
public partial class TurnServerTests
{
    private const string User = "ninefingers";
    private const string Password = "youhavetoberealistic";
    private const string Secret = "north-secret";

    internal sealed class TurnEngine : IDisposable
    {
        public readonly int Port = Tools.FreeUdpPort();
        public readonly int TlsPort = Tools.FreeTcpPort();
        public readonly int PeerPort = Tools.FreeUdpPort();
        public readonly EngineProcess Engine;
        private readonly Process _peer;

        public TurnEngine(string extra = "")
        {
            int min = 30000 + Random.Shared.Next(100) * 200;
            Engine = new EngineProcess($"""
                [TURN]
                listening-port={Port}
                tls-listening-port={TlsPort}
                listening-ip=127.0.0.1
                relay-ip=127.0.0.1
                min-port={min}
                max-port={min + 199}
                realm=engine.test
                lt-cred-mech
                user={User}:{Password}
                use-auth-secret
                static-auth-secret={Secret}
                allowed-peer-ip=127.0.0.1
                {extra}
                """);
            // turnutils_peer echoes every datagram back to its sender (the relayed address).
            _peer = Tools.StartDrained(Tools.Require("turnutils_peer"), $"-L 127.0.0.1 -p {PeerPort}");
            Thread.Sleep(300);
        }

        public async Task<JsonElement> TurnAsync() => JsonDocument.Parse(await Engine.Http.GetStringAsync("/api/turn")).RootElement.Clone();

        /// <summary>/api/turn once it satisfies the check (its counters are published every 100 ms), or the last one after 5 s.</summary>
        public async Task<JsonElement> TurnWhenAsync(Func<JsonElement, bool> done)
        {
            var sw = Stopwatch.StartNew();
            var j = await TurnAsync();
            while (!done(j) && sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(100);
                j = await TurnAsync();
            }
            return j;
        }

        public void Dispose()
        {
            try
            {
                if (!_peer.HasExited)
                    _peer.Kill();
                _peer.WaitForExit(5000);
            }
            finally
            {
                _peer.Dispose();
                Engine.Dispose();
            }
        }
    }

    [GeneratedRegex(@"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")]
    private static partial Regex Totals();

    [GeneratedRegex(@"Total lost packets (\d+)")]
    private static partial Regex Lost();

    /// <summary>Runs turnutils_uclient; returns (sent, received, lost) from its summary.</summary>
    private static (long Sent, long Received, long Lost, string Output) Uclient(TurnEngine t, string options, int clients, int messages, bool rtcp = false)
    {
        // -c: no RTCP pair (EVEN-PORT with R, then RESERVATION-TOKEN: RtcpPairs covers it); -z 2: 2 ms between a client's messages.
        string args = $"{(rtcp ? "" : "-c ")}-z 2 {options} -e 127.0.0.1 -r {t.PeerPort} -n {messages} -m {clients} -l 200 127.0.0.1";
        var (code, stdout, stderr) = Tools.Run(Tools.Require("turnutils_uclient"), args, timeoutMs: 120_000);
        string output = stdout + stderr;
        var totals = Totals().Matches(output);
        var lost = Lost().Match(output);
        Assert.True(code == 0 && totals.Count > 0 && lost.Success, $"turnutils_uclient {args} exited {code}:\n{Tail(output)}\n{t.Engine.Output}");
        var last = totals[^1];
        return (long.Parse(last.Groups[1].Value), long.Parse(last.Groups[2].Value), long.Parse(lost.Groups[1].Value), output);
    }

    private static string Tail(string s) => s.Length > 4000 ? s[^4000..] : s;

    [Theory]
    [InlineData("udp", "")]
    [InlineData("tcp", "-t")]
    [InlineData("tls", "-t -S")]
    [InlineData("udp send indications", "-s")]
    [InlineData("tcp send indications", "-t -s")]
    public async Task TwentyClientsRelayAThousandMessagesEachWithoutLoss(string what, string transport)
    {
        using var t = new TurnEngine();
        int port = transport.Contains("-S") ? t.TlsPort : t.Port;
        var (sent, received, lost, output) = Uclient(t, $"{transport} -u {User} -w {Password} -p {port}", clients: 20, messages: 1000);
        Assert.True(sent == 20_000 && received == 20_000 && lost == 0, $"{what}: sent {sent}, received {received}, lost {lost}\n{Tail(output)}");
        var turn = await t.TurnWhenAsync(j => j.GetProperty("toClient").GetProperty("packets").GetInt64() >= 20_000);
        Assert.True(turn.GetProperty("toPeer").GetProperty("packets").GetInt64() >= 20_000, turn.GetRawText());
        Assert.True(turn.GetProperty("toClient").GetProperty("packets").GetInt64() >= 20_000, turn.GetRawText());
        Assert.True(turn.GetProperty("allocationsCreated").GetInt64() >= 20, turn.GetRawText());
        if (!transport.Contains("-s"))
            Assert.True(turn.GetProperty("drops").GetProperty("noChannel").GetInt64() == 0, turn.GetRawText());
        if (transport.Contains("-t"))
        {
            // A TCP/TLS allocation ends with its connection.
            await Tools.PollAsync(t.TurnAsync, j => j.GetProperty("allocations").GetInt64() == 0 && j.GetProperty("connections").GetInt64() == 0,
                TimeSpan.FromSeconds(10), "the TCP allocations to end with their connections");
        }
    }

    [Theory]
    [InlineData("tcp", "-T")]
    [InlineData("tls", "-T -S")]
    public async Task TcpRelayRfc6062ClientToClientWithoutLoss(string what, string transport)
    {
        // -T: TCP allocations (RFC 6062), and implies -y: every client Connects to every other's relayed
        // address, the other gets a ConnectionAttempt, and both bind a data connection (raw bytes, no
        // framing). 10 clients make 45 peer connections and 90 data connections, under the host's cap of
        // 256 connections per IP (20 would need 400). -e/-r (the UDP peer) are ignored with -T.
        using var t = new TurnEngine();
        int port = transport.Contains("-S") ? t.TlsPort : t.Port;
        var (sent, received, lost, output) = Uclient(t, $"{transport} -u {User} -w {Password} -p {port}", clients: 10, messages: 1000);
        Assert.True(sent == 10_000 && received == 10_000 && lost == 0, $"{what}: sent {sent}, received {received}, lost {lost}\n{Tail(output)}");
        Assert.DoesNotContain("not enough", output);
        var turn = await t.TurnWhenAsync(j => j.GetProperty("tcp").GetProperty("binds").GetInt64() >= 90);
        var tcp = turn.GetProperty("tcp");
        Assert.True(tcp.GetProperty("connectsSucceeded").GetInt64() >= 45 && tcp.GetProperty("connectionAttempts").GetInt64() >= 45, turn.GetRawText());
        Assert.True(tcp.GetProperty("binds").GetInt64() >= 90, turn.GetRawText());
        Assert.Equal(0, tcp.GetProperty("connectsFailed").GetInt64());
        Assert.Equal(0, tcp.GetProperty("bindTimeouts").GetInt64());
        // Every message went through a splice, each way (200 bytes each).
        Assert.True(tcp.GetProperty("bytesToPeer").GetInt64() >= 2_000_000 && tcp.GetProperty("bytesToClient").GetInt64() >= 2_000_000, turn.GetRawText());
        // Nothing outlives the clients: allocations, peer connections and client connections all end.
        await Tools.PollAsync(t.TurnAsync, j => j.GetProperty("allocations").GetInt64() == 0 && j.GetProperty("connections").GetInt64() == 0
            && j.GetProperty("tcp").GetProperty("connections").GetInt64() == 0, TimeSpan.FromSeconds(10), "TCP allocations, peer and data connections to end");
        string metrics = await t.Engine.Http.GetStringAsync("/metrics");
        var binds = Regex.Match(metrics, @"^engine_turn_tcp_binds_total (\d+)$", RegexOptions.Multiline);
        Assert.True(binds.Success && long.Parse(binds.Groups[1].Value) >= 90, metrics);
        Assert.Contains("engine_turn_tcp_relayed_bytes_total{direction=\"to_peer\"}", metrics);
    }

    [Theory]
    [InlineData("udp", "")]
    [InlineData("tls", "-t -S")]
    public void RestSecretCredentialsRelay(string what, string transport)
    {
        using var t = new TurnEngine();
        int port = transport.Contains("-S") ? t.TlsPort : t.Port;
        // -W: the REST scheme (username "expiry:user", password base64(HMAC-SHA1(secret, username))).
        var (sent, received, lost, output) = Uclient(t, $"{transport} -W {Secret} -u rest-user -p {port}", clients: 5, messages: 200);
        Assert.True(sent == 1000 && received == 1000 && lost == 0, $"{what}: sent {sent}, received {received}, lost {lost}\n{Tail(output)}");
    }

    [GeneratedRegex(@"Received relay addr: 127\.0\.0\.1:(\d+)")]
    private static partial Regex RelayPort();

    [Theory]
    [InlineData("udp", "")]
    [InlineData("tcp", "-t")]
    [InlineData("udp dont-fragment", "-g")]
    public async Task RtcpPairsReserveAndClaimTheNextPort(string what, string transport)
    {
        // Without -c each RTP allocation asks EVEN-PORT with R=1 and its RTCP allocation comes with the
        // RESERVATION-TOKEN it got (RFC 8656 §7.2); -g adds DONT-FRAGMENT to the Allocate requests.
        using var t = new TurnEngine();
        var (sent, received, lost, output) = Uclient(t, $"-v {transport} -u {User} -w {Password} -p {t.Port}", clients: 5, messages: 200, rtcp: true);
        Assert.True(sent >= 1000 && received == sent && lost == 0, $"{what}: sent {sent}, received {received}, lost {lost}\n{Tail(output)}");
        // An RTCP relay is its RTP relay's port + 1, the RTP port even.
        var ports = RelayPort().Matches(output).Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        Assert.Contains(ports, p => p % 2 == 0 && ports.Contains(p + 1));
        var turn = await t.TurnWhenAsync(j => j.GetProperty("allocationsCreated").GetInt64() >= ports.Count);
        // Every error was an allocation's first 401 challenge: no 508 for a token, no 420 for DONT-FRAGMENT.
        long created = turn.GetProperty("allocationsCreated").GetInt64();
        Assert.True(created >= ports.Count && turn.GetProperty("errorResponses").GetInt64() == created, turn.GetRawText() + Tail(output));
    }

    [Fact]
    public async Task WrongPasswordRelaysNothing()
    {
        using var t = new TurnEngine();
        var (code, stdout, stderr) = Tools.Run(Tools.Require("turnutils_uclient"),
            $"-c -z 2 -u {User} -w wrong -p {t.Port} -e 127.0.0.1 -r {t.PeerPort} -n 10 -m 1 -l 200 127.0.0.1", timeoutMs: 60_000);
        var turn = await t.TurnWhenAsync(j => j.GetProperty("errorResponses").GetInt64() > 0);
        Assert.Equal(0, turn.GetProperty("allocationsCreated").GetInt64());
        Assert.Equal(0, turn.GetProperty("toPeer").GetProperty("packets").GetInt64());
        Assert.True(turn.GetProperty("errorResponses").GetInt64() > 0, turn.GetRawText() + stdout + stderr + code);
    }

    [Fact]
    public async Task LoopbackPeerIsRefusedWithoutAllowedPeerIp()
    {
        // The same server without the loopback exception: the default deny list keeps 127.0.0.1 out.
        int port = Tools.FreeUdpPort(), peerPort = Tools.FreeUdpPort();
        using var engine = new EngineProcess($"""
            [TURN]
            listening-port={port}
            listening-ip=127.0.0.1
            relay-ip=127.0.0.1
            no-tls
            lt-cred-mech
            user={User}:{Password}
            """);
        using var peer = Tools.StartDrained(Tools.Require("turnutils_peer"), $"-L 127.0.0.1 -p {peerPort}");
        try
        {
            Tools.Run(Tools.Require("turnutils_uclient"), $"-c -z 2 -u {User} -w {Password} -p {port} -e 127.0.0.1 -r {peerPort} -n 10 -m 1 -l 200 127.0.0.1", timeoutMs: 60_000);
            var turn = JsonDocument.Parse(await engine.Http.GetStringAsync("/api/turn")).RootElement;
            for (int i = 0; i < 50 && turn.GetProperty("drops").GetProperty("forbiddenPeer").GetInt64() == 0; i++)
            {
                await Task.Delay(100);
                turn = JsonDocument.Parse(await engine.Http.GetStringAsync("/api/turn")).RootElement;
            }
            Assert.Equal(0, turn.GetProperty("toPeer").GetProperty("packets").GetInt64());
            Assert.True(turn.GetProperty("drops").GetProperty("forbiddenPeer").GetInt64() > 0, turn.GetRawText());
        }
        finally
        {
            peer.Kill();
            peer.WaitForExit(5000);
        }
    }

    [Fact]
    public void StunClientGetsItsReflexiveAddress()
    {
        using var t = new TurnEngine();
        var (code, stdout, stderr) = Tools.Run(Tools.Require("turnutils_stunclient"), $"-p {t.Port} 127.0.0.1", timeoutMs: 30_000);
        Assert.True(code == 0 && stdout.Contains("UDP reflexive addr: 127.0.0.1:"), $"exit {code}: {stdout}{stderr}");
    }

    [Fact]
    public async Task MetricsCarryTheTurnCounters()
    {
        using var t = new TurnEngine();
        Uclient(t, $"-u {User} -w {Password} -p {t.Port}", clients: 2, messages: 50);
        await t.TurnWhenAsync(j => j.GetProperty("toPeer").GetProperty("packets").GetInt64() >= 100);
        string metrics = await t.Engine.Http.GetStringAsync("/metrics");
        var toPeer = Regex.Match(metrics, @"^engine_turn_relayed_packets_total\{direction=""to_peer""\} (\d+)$", RegexOptions.Multiline);
        Assert.True(toPeer.Success && long.Parse(toPeer.Groups[1].Value) >= 100, metrics);
        Assert.Contains("engine_turn_drops_total{reason=\"no_permission\"}", metrics);
        Assert.Contains("# TYPE engine_turn_allocations gauge", metrics);
    }
}
