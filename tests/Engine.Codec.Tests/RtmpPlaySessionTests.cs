using System.Buffers.Binary;
using Engine.Codec.Rtmp;
using static Engine.Codec.Tests.ScriptedRtmpServer;

namespace Engine.Codec.Tests;

public sealed class RtmpPlaySessionTests
{
    private static readonly RtmpUrl Url = new("127.0.0.1", 1940, "live", "cam?token=a/b");
    private static readonly byte[] AvcC = [1, 0x64, 0, 0x1E, 0xFF, 0xE1, 0, 4, 0x67, 0x64, 0, 0x1E, 1, 0, 2, 0x68, 0xCE];

    internal sealed class Recorder : IRtmpPlayHandler
    {
        public readonly List<(RtmpPlayEventKind Kind, uint Millis, byte[] Payload, RtmpPlayMetadata Metadata)> Events = new();

        public void OnEvent(in RtmpPlayEvent e) => Events.Add((e.Kind, e.Millis, e.Payload.ToArray(), e.Metadata));

        public List<(uint Millis, byte[] Payload)> Of(RtmpPlayEventKind kind) => Events.Where(e => e.Kind == kind).Select(e => (e.Millis, e.Payload)).ToList();
    }

    private static List<Message> Sent(RtmpPlaySession s, ScriptedRtmpServer server)
    {
        byte[] bytes = s.Outgoing.Span.ToArray();
        s.Outgoing.Consume(bytes.Length);
        return server.Read(bytes);
    }

    /// <summary>A session that has sent play on stream 1 (connect and createStream answered).</summary>
    private static (RtmpPlaySession, ScriptedRtmpServer, Recorder) Playing(bool started = true)
    {
        var rec = new Recorder();
        var s = new RtmpPlaySession(Url, rec);
        var server = new ScriptedRtmpServer();
        s.Start(0);
        s.Receive([3, .. new byte[2 * RtmpPlaySession.HandshakeSize]]);
        s.Outgoing.Consume(RtmpPlaySession.HandshakeSize * 2 + 1);
        Sent(s, server);
        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_result", 1.0, null, null)));
        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_result", 2.0, null, 1.0)));
        if (started)
            s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Play.Start")))));
        Sent(s, server);
        return (s, server, rec);
    }

    [Fact]
    public void Play_HandshakeConnectCreateStreamPlay_ThenMediaEvents()
    {
        var rec = new Recorder();
        var s = new RtmpPlaySession(Url, rec);
        var server = new ScriptedRtmpServer();
        s.Start(77);
        byte[] c0c1 = s.Outgoing.Span.ToArray();
        s.Outgoing.Consume(c0c1.Length);
        Assert.Equal(1 + RtmpPlaySession.HandshakeSize, c0c1.Length);
        Assert.Equal((3, 77u, 0u), (c0c1[0], BinaryPrimitives.ReadUInt32BigEndian(c0c1.AsSpan(1)), BinaryPrimitives.ReadUInt32BigEndian(c0c1.AsSpan(5))));

        byte[] s1 = new byte[RtmpPlaySession.HandshakeSize];
        new Random(1).NextBytes(s1);
        s.Receive([3, .. s1]);
        Assert.Equal(s1, s.Outgoing.Span[..RtmpPlaySession.HandshakeSize].ToArray()); // C2 echoes S1
        s.Outgoing.Consume(RtmpPlaySession.HandshakeSize);
        var connect = Sent(s, server);
        Assert.Equal(new byte[] { 1, 20 }, connect.Select(m => m.Type));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32BigEndian(connect[0].Payload));
        var cmd = Amf.Parse(connect[1].Payload);
        Assert.Equal(("connect", 1.0), ((string)cmd[0]!, (double)cmd[1]!));
        var props = (Dictionary<string, object?>)cmd[2]!;
        Assert.Equal(("live", "rtmp://127.0.0.1:1940/live"), (props["app"], props["tcUrl"]));
        s.Receive(c0c1.AsSpan(1)); // S2
        Assert.Equal(RtmpPlayState.Connect, s.State);

        // nginx-rtmp's opening: window ack size, peer bandwidth, chunk size, then the connect result.
        s.Receive(server.Chunks(2, 5, 0, 0, U32(5_000_000)));
        s.Receive(server.Chunks(2, 6, 0, 0, [.. U32(5_000_000), 2]));
        s.Receive(server.Chunks(2, 1, 0, 0, U32(4000)));
        server.ChunkSize = 4000;
        Assert.Equal(4000, s.InChunkSize);
        var bw = Assert.Single(Sent(s, server));
        Assert.Equal((5, 5_000_000u), (bw.Type, BinaryPrimitives.ReadUInt32BigEndian(bw.Payload))); // §5.4.5: our window, as the peer set it
        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_result", 1.0, Amf.Obj(("fmsVer", "FMS/3,0,1,123")), Amf.Obj(("level", "status"), ("code", "NetConnection.Connect.Success")))));
        var afterConnect = Sent(s, server);
        Assert.Equal(new byte[] { 5, 20 }, afterConnect.Select(m => m.Type));
        Assert.Equal(RtmpPlaySession.ClientWindow, BinaryPrimitives.ReadUInt32BigEndian(afterConnect[0].Payload));
        Assert.Equal(new object?[] { "createStream", 2.0, null }, Amf.Parse(afterConnect[1].Payload));

        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_result", 2.0, null, 1.0)));
        var play = Sent(s, server);
        Assert.Equal((20, 1u), (play[0].Type, play[0].StreamId));
        Assert.Equal(new object?[] { "play", 3.0, null, "cam?token=a/b", -2000.0 }, Amf.Parse(play[0].Payload));
        Assert.Equal(4, play[1].Type); // SetBufferLength: event 3, stream 1, 3000 ms
        Assert.Equal(new byte[] { 0, 3, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8 }, play[1].Payload);
        Assert.Equal(RtmpPlayState.Play, s.State);

        s.Receive(server.Chunks(2, 4, 0, 0, [0, 0, 0, 0, 0, 1])); // StreamBegin
        s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Play.Reset")))));
        s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Play.Start")))));
        Assert.Equal(RtmpPlayState.Playing, s.State);
        s.Receive(server.Chunks(5, 18, 1, 0, Amf.Encode("|RtmpSampleAccess", true, true)));
        s.Receive(server.Chunks(5, 18, 1, 0, Amf.Encode("onMetaData", new Amf.EcmaArray(Amf.Obj(("width", 640.0), ("height", 480.0),
            ("framerate", 30.0), ("videocodecid", 7.0), ("audiocodecid", 10.0), ("audiosamplerate", 44100.0), ("stereo", true), ("encoder", "x"))))));

        // Media: a sequence header, a 10 KB frame over three 4000-byte chunks, then deltas (fmt 1, 2, 3).
        byte[] big = new byte[10_000];
        new Random(2).NextBytes(big);
        s.Receive(server.Chunks(7, 9, 1, 0, [0x17, 0, 0, 0, 0, .. AvcC]));
        s.Receive(server.Chunks(7, 9, 1, 40, [0x17, 1, 0, 0, 0x43, .. big]));
        s.Receive(server.Chunks(6, 8, 1, 23, [0xAF, 1, 0x21, 0x10]));
        s.Receive(server.Chunks(6, 8, 1, 46, [0xAF, 1, 0x21, 0x11])); // fmt 2: same length, delta 23
        s.Receive(server.Chunks(6, 8, 1, 69, [0xAF, 1, 0x21, 0x12], fmt: 3)); // fmt 3: the last delta again
        s.Receive(server.Chunks(7, 9, 1, 73, [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41])); // fmt 1
        Assert.Equal(new uint[] { 0, 40, 73 }, rec.Of(RtmpPlayEventKind.Video).Select(v => v.Millis));
        Assert.Equal((byte[])[0x17, 1, 0, 0, 0x43, .. big], rec.Of(RtmpPlayEventKind.Video)[1].Payload);
        Assert.Equal(new uint[] { 23, 46, 69 }, rec.Of(RtmpPlayEventKind.Audio).Select(a => a.Millis));
        Assert.Equal(0x12, rec.Of(RtmpPlayEventKind.Audio)[2].Payload[3]);

        var kinds = rec.Events.Select(e => e.Kind).ToList();
        Assert.Equal([RtmpPlayEventKind.PlayReset, RtmpPlayEventKind.PlayStart, RtmpPlayEventKind.Metadata], kinds.Take(3));
        var meta = rec.Events[2].Metadata;
        Assert.Equal((640.0, 480.0, 30.0, 7.0, 10.0, 44100.0, 2.0), (meta.Width, meta.Height, meta.FrameRate, meta.VideoCodecId, meta.AudioCodecId, meta.AudioSampleRate, meta.AudioChannels));

        // The publisher leaves and comes back; the connection stays.
        s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Play.UnpublishNotify")))));
        Assert.Equal(RtmpPlayState.Unpublished, s.State);
        s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Play.PublishNotify")))));
        Assert.Equal(RtmpPlayState.Playing, s.State);
        Assert.Equal([RtmpPlayEventKind.UnpublishNotify, RtmpPlayEventKind.PublishNotify], rec.Events.TakeLast(2).Select(e => e.Kind));

        s.Finish();
        var bye = Assert.Single(Sent(s, server));
        Assert.Equal(new object?[] { "deleteStream", 4.0, null, 1.0 }, Amf.Parse(bye.Payload));
        Assert.Equal(RtmpPlayState.Closed, s.State);
        int before = rec.Events.Count;
        s.Receive(server.Chunks(7, 9, 1, 100, [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41]));
        Assert.Equal(before, rec.Events.Count);
    }

    [Fact]
    public void ExtendedTimestamps_InEveryChunk_AndAsDeltas()
    {
        var (s, server, rec) = Playing();
        byte[] frame = new byte[300]; // three 128-byte chunks
        s.Receive(server.Chunks(7, 9, 1, 0x1234567, [0x27, 1, 0, 0, 0, .. frame]));
        s.Receive(server.Chunks(7, 9, 1, 0x1234567 + 33, [0x27, 1, 0, 0, 0, .. frame])); // fmt 2, small delta
        s.Receive(server.Chunks(7, 9, 1, 0x1234567 + 33 + 0x1000000, [0x27, 1, 0, 0, 0, .. frame])); // an extended delta
        s.Receive(server.Chunks(7, 9, 1, 0xFFFFFFF0, [0x27, 1, 0, 0, 0, 9], fmt: 0));
        Assert.Equal(new uint[] { 0x1234567, 0x1234567 + 33, 0x1234567 + 33 + 0x1000000, 0xFFFFFFF0 }, rec.Of(RtmpPlayEventKind.Video).Select(v => v.Millis));
        Assert.All(rec.Of(RtmpPlayEventKind.Video).Take(3), v => Assert.Equal(305, v.Payload.Length));
        Assert.False(s.HasFailed, s.Error);
    }

    [Fact]
    public void AggregateMessages_AreSplit_WithTimesRenormalised()
    {
        var (s, server, rec) = Playing();
        // RTMP 1.0 §7.1.6: FLV tags with their own times (1000, 1033, 1023); the aggregate says 5000.
        byte[] Tag(byte type, uint ms, byte[] body) =>
            [type, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, (byte)(ms >> 16), (byte)(ms >> 8), (byte)ms, (byte)(ms >> 24), 0, 0, 0, .. body, .. U32((uint)(11 + body.Length))];
        byte[] agg = [.. Tag(9, 1000, [0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]), .. Tag(9, 1033, [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41]), .. Tag(8, 1023, [0xAF, 1, 7])];
        s.Receive(server.Chunks(7, 22, 1, 5000, agg));
        Assert.Equal(new uint[] { 5000, 5033 }, rec.Of(RtmpPlayEventKind.Video).Select(v => v.Millis));
        var audio = Assert.Single(rec.Of(RtmpPlayEventKind.Audio));
        Assert.Equal(5023u, audio.Millis);
        Assert.Equal(new byte[] { 0xAF, 1, 7 }, audio.Payload);
        Assert.Equal((1, 0), (s.AggregateMessages, s.AggregatesMalformed));

        // A sub-message longer than what is left: the rest is dropped and counted, nothing thrown.
        byte[] bad = [.. Tag(9, 0, [0x27, 1, 0, 0, 0, 1]), 9, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 2];
        s.Receive(server.Chunks(7, 22, 1, 6000, bad));
        Assert.Equal((2, 1), (s.AggregateMessages, s.AggregatesMalformed));
        Assert.Equal(3, rec.Of(RtmpPlayEventKind.Video).Count);
    }

    [Fact]
    public void Ping_IsAnswered_AndAcknowledgementsFollowTheWindow()
    {
        var (s, server, _) = Playing();
        s.Receive(server.Chunks(2, 4, 0, 0, [0, 6, 0, 0, 0x12, 0x34]));
        var pong = Assert.Single(Sent(s, server));
        Assert.Equal(4, pong.Type);
        Assert.Equal(new byte[] { 0, 7, 0, 0, 0x12, 0x34 }, pong.Payload);

        s.Receive(server.Chunks(2, 5, 0, 0, U32(5000)));
        long start = s.BytesReceived;
        Assert.Empty(Sent(s, server));
        byte[] frame = new byte[1000];
        int frames = 0;
        while (s.BytesReceived - start < 4000)
        {
            s.Receive(server.Chunks(7, 9, 1, (uint)(frames * 33), [0x27, 1, 0, 0, 0, .. frame]));
            frames++;
        }
        // The first acknowledgement comes once 5000 bytes have arrived since the window was set... or
        // counted from the start of the connection (RTMP 1.0 §5.4.3 counts all bytes received).
        var acks = new List<Message>();
        for (int i = 0; i < 10; i++)
        {
            s.Receive(server.Chunks(7, 9, 1, (uint)((frames + i) * 33), [0x27, 1, 0, 0, 0, .. frame]));
            acks.AddRange(Sent(s, server));
        }
        Assert.NotEmpty(acks);
        Assert.All(acks, a => Assert.Equal(3, a.Type));
        uint last = BinaryPrimitives.ReadUInt32BigEndian(acks[^1].Payload);
        Assert.True(last <= s.BytesReceived && last > s.BytesReceived - 5000 - 1200, $"ack {last}, received {s.BytesReceived}");
        Assert.Equal(acks.Count, s.AcknowledgementsSent);
    }

    [Theory]
    [InlineData("NetStream.Play.StreamNotFound", "error", "RTMP server: NetStream.Play.StreamNotFound no such stream")]
    [InlineData("NetStream.Play.Failed", "error", "RTMP server: NetStream.Play.Failed no such stream")]
    public void PlayRefusals_FailTheSessionWithTheServersWords(string code, string level, string expected)
    {
        var (s, server, rec) = Playing(started: false);
        s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", level), ("code", code), ("description", "no such stream")))));
        Assert.True(s.HasFailed);
        Assert.Equal(expected, s.Error);
        Assert.Equal(code == "NetStream.Play.StreamNotFound" ? [RtmpPlayEventKind.StreamNotFound] : Array.Empty<RtmpPlayEventKind>(), rec.Events.Select(e => e.Kind));
    }

    [Fact]
    public void ConnectRefused_AndClose_FailTheSession()
    {
        var rec = new Recorder();
        var s = new RtmpPlaySession(Url, rec);
        var server = new ScriptedRtmpServer();
        s.Start(0);
        s.Receive([3, .. new byte[2 * RtmpPlaySession.HandshakeSize]]);
        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_error", 1.0, null, Amf.Obj(("level", "error"), ("code", "NetConnection.Connect.Rejected"), ("description", "go away")))));
        Assert.Equal("RTMP server refused connect: NetConnection.Connect.Rejected go away", s.Error);

        var (p, ps, _) = Playing();
        p.Receive(ps.Chunks(3, 20, 0, 0, Amf.Encode("close", 0.0, null)));
        Assert.Equal("RTMP server closed the connection", p.Error);
    }

    [Fact]
    public void MediaOnAnotherStream_OrBeforePlay_IsIgnored()
    {
        var (s, server, rec) = Playing();
        s.Receive(server.Chunks(7, 9, 2, 0, [0x27, 1, 0, 0, 0, 1]));
        s.Receive(server.Chunks(7, 9, 1, 0, []));
        Assert.Empty(rec.Of(RtmpPlayEventKind.Video));
        Assert.Equal(2, s.MediaIgnored);
    }

    [Fact]
    public void ServerBytesOneAtATime_GiveTheSameEvents()
    {
        var (whole, server, rec) = Playing();
        var (split, _, rec2) = Playing();
        rec.Events.Clear();
        rec2.Events.Clear();
        var script = new List<byte>();
        var s2 = new ScriptedRtmpServer();
        script.AddRange(s2.Chunks(2, 1, 0, 0, U32(300)));
        s2.ChunkSize = 300;
        for (int i = 0; i < 20; i++)
        {
            script.AddRange(s2.Chunks(7, 9, 1, (uint)(i * 33), [0x27, 1, 0, 0, 0, .. new byte[i * 50]]));
            script.AddRange(s2.Chunks(6, 8, 1, (uint)(i * 23), [0xAF, 1, (byte)i]));
        }
        whole.Receive(script.ToArray());
        foreach (byte b in script)
            split.Receive([b]);
        Assert.Equal(40, rec.Events.Count);
        Assert.Equal(rec.Events.Select(e => (e.Kind, e.Millis, Convert.ToHexString(e.Payload))), rec2.Events.Select(e => (e.Kind, e.Millis, Convert.ToHexString(e.Payload))));
    }

    [Fact]
    public void HostileServer_FailsTheSession_WithoutThrowing()
    {
        var (a, _, _) = Playing();
        a.Receive([0x07, 0, 0, 0, 0x50, 0, 0, 9, 1, 0, 0, 0]); // 5 MB message
        Assert.Equal($"RTMP: a server message of {0x500000} bytes (limit {RtmpPlaySession.MaxMessage})", a.Error);

        var (b, bs, _) = Playing();
        b.Receive(bs.Chunks(2, 1, 0, 0, U32(70_000)));
        Assert.StartsWith("RTMP: server chunk size 70000", b.Error);
        var (b0, b0s, _) = Playing();
        b0.Receive(b0s.Chunks(2, 1, 0, 0, U32(0)));
        Assert.StartsWith("RTMP: server chunk size 0", b0.Error);

        var (c, _, _) = Playing();
        for (int csid = 10; csid < 40 && !c.HasFailed; csid++)
            c.Receive([(byte)csid, 0, 0, 0, 0, 0, 1, 18, 0, 0, 0, 0, 0xAA]);
        Assert.Equal("RTMP: too many chunk streams from the server", c.Error);

        var (d, _, _) = Playing();
        d.Receive([0x4A, 0, 0, 0, 0, 0, 1, 18]); // fmt 1 on a new chunk stream
        Assert.Equal("RTMP: a chunk stream started without a full header", d.Error);

        // 4 MB messages begun on 5 chunk streams at once: over the 16 MB of buffers.
        var (e, es, _) = Playing();
        e.Receive(es.Chunks(2, 1, 0, 0, U32(65536)));
        for (int csid = 10; csid < 16 && !e.HasFailed; csid++)
            for (int k = 0; k < 60 && !e.HasFailed; k++)
                e.Receive([(byte)(k == 0 ? csid : 0xC0 | csid), .. k == 0 ? [0, 0, 0, 0x3F, 0xFF, 0xFF, 9, 1, 0, 0, 0] : Array.Empty<byte>(), .. new byte[65536]]);
        Assert.Equal("RTMP: server messages in progress over 16 MB", e.Error);

        // Pings that are never sent back: the replies are bounded, then the session fails.
        var (f, fs, _) = Playing();
        byte[] ping = fs.Chunks(2, 4, 0, 0, [0, 6, 0, 0, 0, 1]);
        for (int i = 0; i < 100_000 && !f.HasFailed; i++)
            f.Receive(ping);
        Assert.Equal("RTMP: 1 MB of replies to the server unsent", f.Error);

        var wrong = new RtmpPlaySession(Url, new Recorder());
        wrong.Start(0);
        wrong.Receive(new byte[1 + RtmpPlaySession.HandshakeSize]);
        Assert.Equal("RTMP handshake: server version 0, not 3", wrong.Error);
    }

    [Fact]
    public void RandomServerBytes_NeverThrow()
    {
        var rng = new Random(7);
        var demux = new FlvTagDemuxer();
        var sink = new DemuxingHandler(demux);
        for (int round = 0; round < 500; round++)
        {
            var s = new RtmpPlaySession(Url, sink);
            s.Start(0);
            s.Receive([3, .. new byte[2 * RtmpPlaySession.HandshakeSize]]);
            s.Receive(new ScriptedRtmpServer().Chunks(3, 20, 0, 0, Amf.Encode("_result", 1.0, null, null)));
            s.Receive(new ScriptedRtmpServer().Chunks(3, 20, 0, 0, Amf.Encode("_result", 2.0, null, 1.0)));
            byte[] junk = new byte[rng.Next(1, 4000)];
            rng.NextBytes(junk);
            if (round % 3 == 0)
                junk[0] = (byte)(round % 2 == 0 ? 0x07 : 0x02);
            for (int o = 0; o < junk.Length;)
            {
                int n = Math.Min(rng.Next(1, 200), junk.Length - o);
                s.Receive(junk.AsSpan(o, n));
                o += n;
            }
            s.Outgoing.Consume(s.Outgoing.Length);
            Assert.True(!s.HasFailed || !string.IsNullOrEmpty(s.Error));
        }
    }

    /// <summary>What the pull path will do: every media event straight into the demuxer.</summary>
    internal sealed class DemuxingHandler(FlvTagDemuxer demux) : IRtmpPlayHandler
    {
        public int Frames, Configs;

        public void OnEvent(in RtmpPlayEvent e)
        {
            var r = e.Kind switch
            {
                RtmpPlayEventKind.Video => demux.DemuxVideo(e.Millis, e.Payload, out _),
                RtmpPlayEventKind.Audio => demux.DemuxAudio(e.Millis, e.Payload, out _),
                _ => FlvDemuxResult.Unsupported,
            };
            if (r == FlvDemuxResult.Frame)
                Frames++;
            else if (r is FlvDemuxResult.Config or FlvDemuxResult.ConfigChanged)
                Configs++;
        }
    }

    [Fact]
    public void LiveMedia_ThroughSessionAndDemuxer_AllocatesNothing()
    {
        var demux = new FlvTagDemuxer();
        var handler = new DemuxingHandler(demux);
        var s = new RtmpPlaySession(Url, handler);
        var server = new ScriptedRtmpServer();
        s.Start(0);
        s.Receive([3, .. new byte[2 * RtmpPlaySession.HandshakeSize]]);
        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_result", 1.0, null, null)));
        s.Receive(server.Chunks(3, 20, 0, 0, Amf.Encode("_result", 2.0, null, 1.0)));
        s.Receive(server.Chunks(5, 20, 1, 0, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Play.Start")))));
        s.Receive(server.Chunks(2, 5, 0, 0, U32(100_000)));
        s.Receive(server.Chunks(2, 1, 0, 0, U32(4096)));
        server.ChunkSize = 4096;
        s.Receive(server.Chunks(7, 9, 1, 0, [0x17, 0, 0, 0, 0, .. AvcC]));
        s.Receive(server.Chunks(6, 8, 1, 0, [0xAF, 0, 0x12, 0x10]));
        // A GOP of 30 (a 20 KB key frame with an SEI, then P frames with composition offsets) and AAC, replayed with growing times.
        byte[] Nals(int n, byte type) => [.. U32((uint)n), type, .. new byte[n - 1]];
        var kinds = new List<(int Csid, byte Type, byte[] Body)>();
        for (int i = 0; i < 30; i++)
        {
            byte[] v = i == 0 ? [0x17, 1, 0, 0, 0, .. Nals(30, 6), .. Nals(20_000, 0x65)] : [0x27, 1, 0, 0, 0x42, .. Nals(1500 + i * 10, 0x41)];
            kinds.Add((7, 9, v));
            kinds.Add((6, 8, [0xAF, 1, .. new byte[200]]));
        }
        // Built before the measure, so it counts only the engine's work.
        uint t = 0;
        var rounds = new List<byte[][]>();
        for (int r = 0; r < 12; r++)
        {
            var msgs = new byte[kinds.Count][];
            for (int i = 0; i < kinds.Count; i++)
                msgs[i] = server.Chunks(kinds[i].Csid, kinds[i].Type, 1, t += 16, kinds[i].Body);
            rounds.Add(msgs);
        }
        foreach (var m in rounds[0]) { s.Receive(m); s.Outgoing.Consume(s.Outgoing.Length); }
        foreach (var m in rounds[1]) { s.Receive(m); s.Outgoing.Consume(s.Outgoing.Length); }
        int framesBefore = handler.Frames;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 2; r < rounds.Count; r++)
            foreach (var m in rounds[r])
            {
                s.Receive(m);
                s.Outgoing.Consume(s.Outgoing.Length);
            }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(s.HasFailed, s.Error);
        Assert.Equal(10 * 60, handler.Frames - framesBefore);
        Assert.True(s.AcknowledgementsSent > 0);
        Assert.Equal(0, allocated);
    }
}
