using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Peers;
using Engine.Host.Sessions;
using Engine.Host.Tests.Sessions;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Lifecycle;

/// <summary>
/// The stop's session part: a real client peer over loopback UDP publishes to a real
/// <see cref="PublishService"/> on a real <see cref="MediaLoop"/>; the stop ends it from the media
/// thread with DTLS close_notify, and refuses what comes after.
/// </summary>
public sealed class ShutdownTests : IDisposable
{
    private readonly MediaLoop _loop = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate();
    private readonly DtlsCertificate _clientCert = DtlsCertificate.Generate();
    private readonly PublishService _service;
    private readonly Dictionary<Peer, Socket> _sockets = new();
    private readonly byte[] _buffer = new byte[2048];

    public ShutdownTests()
    {
        _service = new PublishService(EngineConfig.Parse("[WEBRTC]\nWEBRTCMAXCLIENT=10\n"), _loop, _serverCert);
        _loop.Start();
    }

    public void Dispose()
    {
        _loop.Dispose();
        foreach (var s in _sockets.Values)
            s.Dispose();
        _serverCert.Dispose();
        _clientCert.Dispose();
    }

    private Peer Connect(string stream)
    {
        string offer = PublishHarness.Offer(_clientCert.Fingerprint.ToString(), "actpass", rtx: false);
        var outcome = _service.Publish(new PublishRequest { Stream = stream, OfferSdp = offer, Signaling = "whip", LocalAddress = IPAddress.Loopback });
        Assert.True(outcome.Succeeded, outcome.Reason);
        string answer = outcome.AnswerSdp!;
        string Attr(string name) => Regex.Match(answer, $"a={name}:(.+?)\r?\n").Groups[1].Value;
        Assert.True(DtlsFingerprint.TryParse(Attr("fingerprint"), out var fingerprint), Attr("fingerprint"));
        var client = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "cliU", LocalPwd = "clientpassword0123456789",
            RemoteUfrag = Attr("ice-ufrag"), RemotePwd = Attr("ice-pwd"),
            RemoteCandidate = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, _loop.LocalEndPoint.Port)),
            Certificate = _clientCert, RemoteFingerprint = fingerprint!,
            SendTracks =
            [
                new PeerSendTrack { Mid = "0", Ssrc = 0x1111, PayloadType = 96, Codec = MediaCodec.H264 },
                new PeerSendTrack { Mid = "1", Ssrc = 0x2222, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
            ],
            Seed = 7,
        }, MediaLoop.NowMicros());
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _sockets[client] = socket;
        Pump(client, () => client.State == PeerState.Connected, "the client to connect");
        return client;
    }

    /// <summary>Drives the client against the loop over the socket until <paramref name="done"/>, 10 s at most.</summary>
    private void Pump(Peer client, Func<bool> done, string what)
    {
        var socket = _sockets[client];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!done() && DateTime.UtcNow < deadline)
        {
            long now = MediaLoop.NowMicros();
            if (client.NextTimeoutMicros <= now)
                client.HandleTimeout(now);
            while (client.TryPollTransmit(_buffer, out int n, out var to))
                socket.SendTo(_buffer.AsSpan(0, n), SocketFlags.None, to.ToIPEndPoint());
            for (int i = 0; i < 64 && socket.Poll(2_000, SelectMode.SelectRead); i++)
            {
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n = socket.ReceiveFrom(_buffer, ref from);
                client.HandleDatagram(_buffer.AsSpan(0, n), NetAddress.FromIPEndPoint((IPEndPoint)from), MediaLoop.NowMicros());
            }
            while (client.TryPollEvent(out _)) { }
        }
        Assert.True(done(), what);
    }

    [Fact]
    public async Task TheStopSendsCloseNotifyToEveryPeerAndRefusesNewSessions()
    {
        var a = Connect("a");
        var b = Connect("b");
        Assert.Equal(2, _service.SessionCount);

        var ended = _service.ShutdownAsync("server stopping");
        Assert.True(_service.IsShuttingDown);
        // Both clients hear close_notify (not a consent timeout: that would take 30 s).
        Pump(a, () => a.State == PeerState.Closed, "a to be closed");
        Pump(b, () => b.State == PeerState.Closed, "b to be closed");
        Assert.Equal("DTLS close_notify", a.CloseReason);
        Assert.Equal("DTLS close_notify", b.CloseReason);
        Assert.Same(ended, await Task.WhenAny(ended, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Equal(0, _service.SessionCount);
        Assert.Equal(0, _loop.SessionCount);

        var refused = _service.Publish(new PublishRequest { Stream = "c", OfferSdp = PublishHarness.Offer(_clientCert.Fingerprint.ToString(), "actpass", false), Signaling = "whip" });
        Assert.Equal(PublishError.ShuttingDown, refused.Error);
        Assert.Equal(503, refused.Error.HttpStatus());
        Assert.Equal(PublishError.ShuttingDown, _service.Play(new Engine.Host.Playback.PlayRequest { Stream = "a", OfferSdp = "v=0", Signaling = "whep" }).Error);
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void PostedActionsRunOnTheLoopInOrderWithWhatTheyQueue()
    {
        var order = new List<string>();
        var done = new ManualResetEventSlim();
        int loopThread = -1;
        // Hold the loop so the three posts below are all queued before any runs (a post wakes it at once).
        var gate = new ManualResetEventSlim();
        var held = new ManualResetEventSlim();
        _loop.Post(() => { held.Set(); gate.Wait(TimeSpan.FromSeconds(10)); });
        Assert.True(held.Wait(TimeSpan.FromSeconds(10)));
        _loop.Post(() =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            order.Add("first");
            _loop.Post(() => { order.Add("queued by first"); done.Set(); });
        });
        _loop.Post(() => order.Add("second"));
        _loop.Post(() => throw new InvalidOperationException("a faulty action"));
        gate.Set();
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(["first", "second", "queued by first"], order);
        Assert.NotEqual(Environment.CurrentManagedThreadId, loopThread);
        Assert.Equal(1, _loop.Counters.SessionFaults);
    }
}
