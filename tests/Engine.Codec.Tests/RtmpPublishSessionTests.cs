using System.Buffers.Binary;
using System.Text;
using Engine.Codec.Rtmp;
using Xunit;

namespace Engine.Codec.Tests;

public sealed class RtmpPublishSessionTests
{
    private static readonly RtmpUrl Url = new("127.0.0.1", 1940, "live", "cam?token=a/b");

    [Theory]
    [InlineData("rtmp://127.0.0.1:1940/live/cam", "127.0.0.1", 1940, "live", "cam", "rtmp://127.0.0.1:1940/live")]
    [InlineData("rtmp://example.org/app/inst/name?k=v/w", "example.org", 1935, "app/inst", "name?k=v/w", "rtmp://example.org/app/inst")]
    [InlineData("RTMP://[::1]:2000/live/x", "::1", 2000, "live", "x", "rtmp://[::1]:2000/live")]
    public void Url_SplitsAppAndStream(string url, string host, int port, string app, string stream, string tcUrl)
    {
        Assert.True(RtmpUrl.TryParse(url, out var u));
        Assert.Equal((host, port, app, stream, tcUrl), (u.Host, u.Port, u.App, u.Stream, u.TcUrl));
    }

    [Theory]
    [InlineData("rtmps://host/live/x")]
    [InlineData("rtmp://user:pass@host/live/x")]
    [InlineData("rtmp://host/live")]
    [InlineData("rtmp://host/live/")]
    [InlineData("rtmp://host:99999/live/x")]
    [InlineData("rtmp:///live/x")]
    [InlineData("/tmp/file.flv")]
    public void Url_OthersAreLeftToLibavformat(string url) => Assert.False(RtmpUrl.TryParse(url, out _));

    [Fact]
    public void Publish_HandshakeThenCommands_HeldMediaFollowsWithTheStreamId()
    {
        var s = new RtmpPublishSession(Url, 1 << 20);
        var server = new FakeServer();
        s.Start(1234);
        var c0c1 = server.TakeHandshake(s, 1 + RtmpPublishSession.HandshakeSize);
        Assert.Equal(3, c0c1[0]);
        Assert.Equal(1234u, BinaryPrimitives.ReadUInt32BigEndian(c0c1.AsSpan(1)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(c0c1.AsSpan(5)));

        byte[] s1 = new byte[RtmpPublishSession.HandshakeSize];
        new Random(1).NextBytes(s1);
        s.Receive([3, .. s1, .. c0c1.AsSpan(1)]);
        Assert.Equal(s1, server.TakeHandshake(s, RtmpPublishSession.HandshakeSize)); // C2 echoes S1

        // Media before the server accepts the publish is held.
        byte[] avcC = [1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1, 0, 4, 0x67, 0x42, 0xC0, 0x1E, 1, 0, 2, 0x68, 0xCE];
        Assert.True(s.WriteVideo(0, keyframe: true, sequenceHeader: true, avcC));
        var connect = server.Read(s);
        Assert.Equal(new byte[] { 1, 20 }, connect.Select(m => m.Type));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32BigEndian(connect[0].Payload));
        var cmd = Amf.Parse(connect[1].Payload);
        Assert.Equal("connect", cmd[0]);
        Assert.Equal(1.0, cmd[1]);
        var props = (Dictionary<string, object?>)cmd[2]!;
        Assert.Equal("live", props["app"]);
        Assert.Equal("rtmp://127.0.0.1:1940/live", props["tcUrl"]);

        // The server's usual opening, then the connect result.
        s.Receive(FakeServer.Message(2, 5, 0, U32(2_500_000)));
        s.Receive(FakeServer.Message(2, 6, 0, [.. U32(2_500_000), 2]));
        s.Receive(FakeServer.Message(2, 1, 0, U32(4096)));
        s.Receive(FakeServer.Message(3, 20, 0, Amf.Encode("_result", 1.0, Amf.Obj(("fmsVer", "FMS/3,0,1,123")), Amf.Obj(("level", "status"), ("code", "NetConnection.Connect.Success")))));
        var afterConnect = server.Read(s);
        Assert.Equal(["releaseStream", "FCPublish", "createStream"], afterConnect.Select(m => (string)Amf.Parse(m.Payload)[0]!));
        Assert.Equal(RtmpPublishState.CreateStream, s.State);

        s.Receive(FakeServer.Message(3, 20, 0, Amf.Encode("_result", 4.0, null, 7.0)));
        var publish = Assert.Single(server.Read(s));
        Assert.Equal(7u, publish.StreamId);
        Assert.Equal(new object?[] { "publish", 5.0, null, "cam?token=a/b", "live" }, Amf.Parse(publish.Payload));
        Assert.False(s.IsLive);

        s.Receive(FakeServer.Message(5, 20, 7, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Publish.Start"), ("description", "Start publishing")))));
        Assert.True(s.IsLive);
        var held = Assert.Single(server.Read(s));
        Assert.Equal(((byte)9, 7u, 0u), (held.Type, held.StreamId, held.Timestamp));
        Assert.Equal((byte[])[0x17, 0, 0, 0, 0, .. avcC], held.Payload);

        // A frame over several chunks, past the 24-bit timestamp (extended timestamps in every chunk).
        byte[] frame = new byte[10_000];
        new Random(2).NextBytes(frame);
        Assert.True(s.WriteVideo(0x1234567, keyframe: false, sequenceHeader: false, frame));
        Assert.True(s.WriteAudio(0x1234568, sequenceHeader: false, [0x21, 0x10]));
        var media = server.Read(s);
        Assert.Equal(((byte)9, 7u, 0x1234567u), (media[0].Type, media[0].StreamId, media[0].Timestamp));
        Assert.Equal((byte[])[0x27, 1, 0, 0, 0, .. frame], media[0].Payload);
        Assert.Equal(((byte)8, 0x1234568u), (media[1].Type, media[1].Timestamp));
        Assert.Equal(new byte[] { 0xAF, 1, 0x21, 0x10 }, media[1].Payload);

        s.Finish();
        Assert.Equal(["FCUnpublish", "deleteStream"], server.Read(s).Select(m => (string)Amf.Parse(m.Payload)[0]!));
        Assert.Equal(RtmpPublishState.Closed, s.State);
        Assert.False(s.WriteVideo(1, true, false, frame));
    }

    [Fact]
    public void RealNginxRtmpReplies_TakeThePublishLive()
    {
        // What nginx-rtmp 1.2 (Debian 12) sent to a publishing ffmpeg, through a recording proxy:
        // S0 S1 S2, window ack size, peer bandwidth, chunk size, the connect and createStream
        // results, onStatus Publish.Start, and at the end onStatus Unpublish.Success.
        byte[] server = File.ReadAllBytes(TestMedia.Data("nginx-rtmp-publish-server.bin"));
        var s = new RtmpPublishSession(Url, 1 << 20);
        s.Start(0);
        int start = server.AsSpan().IndexOf("onStatus"u8) - 15; // its 12-byte chunk header and the AMF string header
        s.Receive(server.AsSpan(0, start));
        Assert.Equal(RtmpPublishState.Publish, s.State);
        s.Receive(server.AsSpan(start));
        Assert.True(s.IsLive, s.Error);
        Assert.Equal(7, s.MessagesReceived);
    }

    [Fact]
    public void ServerBytesOneAtATime_GiveTheSameResult()
    {
        var (s, server) = Handshaken();
        byte[] all = [.. FakeServer.Message(3, 20, 0, Amf.Encode("_result", 1.0, null, null)),
            .. FakeServer.Message(3, 20, 0, Amf.Encode("_result", 4.0, null, 1.0)),
            .. FakeServer.Message(5, 20, 1, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Publish.Start"))))];
        foreach (byte b in all)
            s.Receive([b]);
        Assert.True(s.IsLive);
    }

    [Fact]
    public void Ping_IsAnswered_AndAcknowledgementsFollowTheWindow()
    {
        var (s, server) = Handshaken();
        s.Receive(FakeServer.Message(2, 4, 0, [0, 6, 0, 0, 0x12, 0x34]));
        var pong = Assert.Single(server.Read(s));
        Assert.Equal(4, (int)pong.Type);
        Assert.Equal(new byte[] { 0, 7, 0, 0, 0x12, 0x34 }, pong.Payload);

        s.Receive(FakeServer.Message(2, 5, 0, U32(5000)));
        Assert.Empty(server.Read(s));
        s.Receive(FakeServer.Message(2, 18, 0, new byte[1000])); // data messages are ignored, but counted
        Assert.Empty(server.Read(s));
        s.Receive(FakeServer.Message(2, 18, 0, new byte[1000]));
        var ack = Assert.Single(server.Read(s));
        Assert.Equal(3, (int)ack.Type);
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(ack.Payload) >= 5000);
    }

    [Theory]
    [InlineData("_error", 1.0, "NetConnection.Connect.Rejected", "RTMP server refused connect: NetConnection.Connect.Rejected")]
    [InlineData("onStatus", 0.0, "NetStream.Publish.BadName", "RTMP server: NetStream.Publish.BadName")]
    public void Refusals_FailTheSessionWithTheServersWords(string name, double txn, string code, string expected)
    {
        var (s, _) = Handshaken();
        s.Receive(FakeServer.Message(3, 20, 0, Amf.Encode(name, txn, null, Amf.Obj(("level", "error"), ("code", code), ("description", "no")))));
        Assert.True(s.HasFailed);
        Assert.Equal(expected + " no", s.Error);
        Assert.False(s.WriteAudio(0, false, [1]));
    }

    [Fact]
    public void HostileServer_IsBounded()
    {
        // A message over 64 KB, a chunk size over 64 KB, a ninth chunk stream: each fails the session.
        var (a, _) = Handshaken();
        a.Receive([0x03, 0, 0, 0, 0x02, 0, 0, 20, 0, 0, 0, 0]);
        Assert.Equal("RTMP: a server message of 131072 bytes (limit 65536)", a.Error);

        var (b, _) = Handshaken();
        b.Receive(FakeServer.Message(2, 1, 0, U32(70_000)));
        Assert.StartsWith("RTMP: server chunk size 70000", b.Error);

        var (c, _) = Handshaken();
        for (int csid = 3; csid < 12 && !c.HasFailed; csid++)
            c.Receive([(byte)csid, 0, 0, 0, 0, 0, 1, 18, 0, 0, 0, 0, 0xAA]); // a one-byte message on each
        Assert.Equal("RTMP: too many chunk streams from the server", c.Error);

        var (d, _) = Handshaken();
        d.Receive([0x43, 0, 0, 0, 0, 0, 1, 18]); // fmt 1 on a new chunk stream
        Assert.True(d.HasFailed);

        var wrong = new RtmpPublishSession(Url, 1 << 20);
        wrong.Start(0);
        wrong.Receive(new byte[1 + RtmpPublishSession.HandshakeSize]);
        Assert.Equal("RTMP handshake: server version 0, not 3", wrong.Error);
    }

    [Fact]
    public void RandomServerBytes_NeverThrow()
    {
        var rng = new Random(7);
        for (int round = 0; round < 300; round++)
        {
            var (s, server) = Handshaken();
            byte[] junk = new byte[rng.Next(1, 3000)];
            rng.NextBytes(junk);
            if (round % 3 == 0)
                junk[0] = 0x02; // a chunk basic header for the control stream
            s.Receive(junk);
            s.WriteVideo(1, true, false, junk);
            s.Outgoing.Consume(s.Outgoing.Length);
        }
    }

    [Fact]
    public void MediaOverThePendingLimit_IsRefused_NotQueued()
    {
        var s = new RtmpPublishSession(Url, 32 * 1024);
        s.Start(0);
        byte[] frame = new byte[10_000];
        int accepted = 0;
        for (int i = 0; i < 10; i++)
            accepted += s.WriteVideo((uint)i, i == 0, false, frame) ? 1 : 0;
        Assert.Equal(3, accepted);
        Assert.True(s.PendingBytes <= 32 * 1024);
    }

    [Fact]
    public void BytesTakenBySwap_KeepTheirOrder_AndCountUntilSent()
    {
        var (s, server) = Live();
        byte[] frame = new byte[300_000];
        Assert.True(s.WriteVideo(1, true, false, frame));
        var taken = s.SwapOutgoing(s.NewOutgoingBuffer());
        s.InFlight = taken.Length; // the host has them, unsent
        Assert.True(s.WriteVideo(2, false, false, frame));
        Assert.True(s.WriteVideo(3, false, false, frame));
        Assert.False(s.WriteVideo(4, false, false, frame)); // 4 x 300 KB > 1 MB with the in-flight bytes
        s.InFlight = 0;
        Assert.True(s.WriteVideo(4, false, false, frame));

        // What the host took, then what was written after, parse as one ordered stream.
        byte[] all = [.. taken.Span, .. s.Outgoing.Span];
        var messages = server.Read(all);
        Assert.Equal(new uint[] { 1, 2, 3, 4 }, messages.Where(m => m.Type == 9).Select(m => m.Timestamp));
    }

    [Fact]
    public void LiveMedia_AllocatesNothing()
    {
        var (s, server) = Live();
        byte[] frame = new byte[9000], aac = new byte[200];
        void Round(int i)
        {
            s.WriteVideo((uint)(i * 33), i % 30 == 0, false, frame);
            s.WriteAudio((uint)(i * 33), false, aac);
            s.Outgoing.Consume(s.Outgoing.Length / 2);
            if (i % 4 == 0)
                s.Outgoing.Consume(s.Outgoing.Length);
        }
        for (int i = 0; i < 200; i++)
            Round(i);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 200; i < 2200; i++)
            Round(i);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static (RtmpPublishSession, FakeServer) Handshaken()
    {
        var s = new RtmpPublishSession(Url, 1 << 20);
        var server = new FakeServer();
        s.Start(0);
        var c1 = server.TakeHandshake(s, 1 + RtmpPublishSession.HandshakeSize);
        s.Receive([3, .. new byte[RtmpPublishSession.HandshakeSize], .. c1.AsSpan(1)]);
        server.TakeHandshake(s, RtmpPublishSession.HandshakeSize);
        server.Read(s);
        return (s, server);
    }

    private static (RtmpPublishSession, FakeServer) Live()
    {
        var (s, server) = Handshaken();
        s.Receive(FakeServer.Message(3, 20, 0, Amf.Encode("_result", 1.0, null, null)));
        s.Receive(FakeServer.Message(3, 20, 0, Amf.Encode("_result", 4.0, null, 1.0)));
        s.Receive(FakeServer.Message(5, 20, 1, Amf.Encode("onStatus", 0.0, null, Amf.Obj(("level", "status"), ("code", "NetStream.Publish.Start")))));
        Assert.True(s.IsLive);
        server.Read(s);
        return (s, server);
    }

    private static byte[] U32(uint v)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    private sealed record Message(byte Type, uint StreamId, uint Timestamp, byte[] Payload);

    /// <summary>The server's view: reads the client's chunks (fmt 0 and 3, as the client writes them), writes fmt 0 chunks of 128 bytes.</summary>
    private sealed class FakeServer
    {
        private int _chunkSize = 128;
        private readonly Dictionary<int, (Message Header, List<byte> Data, bool Extended)> _open = new();

        public byte[] TakeHandshake(RtmpPublishSession s, int count)
        {
            Assert.True(s.Outgoing.Length >= count);
            byte[] b = s.Outgoing.Span[..count].ToArray();
            s.Outgoing.Consume(count);
            return b;
        }

        public List<Message> Read(RtmpPublishSession s)
        {
            byte[] bytes = s.Outgoing.Span.ToArray();
            s.Outgoing.Consume(bytes.Length);
            return Read(bytes);
        }

        public List<Message> Read(byte[] bytes)
        {
            var span = bytes.AsSpan();
            var messages = new List<Message>();
            while (!span.IsEmpty)
            {
                int fmt = span[0] >> 6, csid = span[0] & 0x3F;
                Assert.InRange(csid, 2, 63);
                span = span[1..];
                if (fmt == 0)
                {
                    uint ts = (uint)(span[0] << 16 | span[1] << 8 | span[2]);
                    int length = span[3] << 16 | span[4] << 8 | span[5];
                    byte type = span[6];
                    uint stream = BinaryPrimitives.ReadUInt32LittleEndian(span[7..]);
                    span = span[11..];
                    bool ext = ts == 0xFFFFFF;
                    if (ext)
                    {
                        ts = BinaryPrimitives.ReadUInt32BigEndian(span);
                        span = span[4..];
                    }
                    Assert.False(_open.ContainsKey(csid));
                    _open[csid] = (new Message(type, stream, ts, new byte[length]), new List<byte>(), ext);
                }
                else
                {
                    Assert.Equal(3, fmt);
                    var o = _open[csid];
                    if (o.Extended)
                    {
                        Assert.Equal(o.Header.Timestamp, BinaryPrimitives.ReadUInt32BigEndian(span));
                        span = span[4..];
                    }
                }
                var (header, data, _) = _open[csid];
                int n = Math.Min(_chunkSize, header.Payload.Length - data.Count);
                data.AddRange(span[..n].ToArray());
                span = span[n..];
                if (data.Count == header.Payload.Length)
                {
                    _open.Remove(csid);
                    var m = header with { Payload = data.ToArray() };
                    if (m.Type == 1)
                        _chunkSize = (int)BinaryPrimitives.ReadUInt32BigEndian(m.Payload);
                    messages.Add(m);
                }
            }
            Assert.Empty(_open);
            return messages;
        }

        public static byte[] Message(int csid, byte type, uint stream, byte[] payload)
        {
            var b = new List<byte> { (byte)csid, 0, 0, 0, (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type };
            b.AddRange(BitConverter.GetBytes(stream)); // little-endian
            for (int i = 0; i < payload.Length; i += 128)
            {
                if (i > 0)
                    b.Add((byte)(0xC0 | csid));
                b.AddRange(payload.Skip(i).Take(128));
            }
            return b.ToArray();
        }
    }

    /// <summary>A test-side AMF0 codec, written apart from the engine's.</summary>
    private static class Amf
    {
        public static Dictionary<string, object?> Obj(params (string Key, object? Value)[] props) => props.ToDictionary(p => p.Key, p => p.Value);

        public static byte[] Encode(params object?[] values)
        {
            var b = new List<byte>();
            foreach (var v in values)
                Put(b, v);
            return b.ToArray();
        }

        private static void Put(List<byte> b, object? v)
        {
            switch (v)
            {
                case null: b.Add(5); break;
                case double d:
                    b.Add(0);
                    b.AddRange(BitConverter.GetBytes(d).AsEnumerable().Reverse());
                    break;
                case string s:
                    b.Add(2);
                    Key(b, s);
                    break;
                case Dictionary<string, object?> o:
                    b.Add(3);
                    foreach (var (k, x) in o)
                    {
                        Key(b, k);
                        Put(b, x);
                    }
                    b.AddRange([0, 0, 9]);
                    break;
                default: throw new ArgumentException(v.GetType().Name);
            }
        }

        private static void Key(List<byte> b, string s)
        {
            byte[] u = Encoding.UTF8.GetBytes(s);
            b.Add((byte)(u.Length >> 8));
            b.Add((byte)u.Length);
            b.AddRange(u);
        }

        public static List<object?> Parse(byte[] data)
        {
            var list = new List<object?>();
            int i = 0;
            while (i < data.Length)
                list.Add(Value(data, ref i));
            return list;
        }

        private static object? Value(byte[] d, ref int i)
        {
            byte t = d[i++];
            switch (t)
            {
                case 0:
                    double v = BinaryPrimitives.ReadDoubleBigEndian(d.AsSpan(i));
                    i += 8;
                    return v;
                case 1: return d[i++] != 0;
                case 2: return Str(d, ref i);
                case 5: return null;
                case 3:
                case 8:
                    if (t == 8) i += 4;
                    var o = new Dictionary<string, object?>();
                    while (!(d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 9))
                    {
                        string k = Str(d, ref i);
                        o[k] = Value(d, ref i);
                    }
                    i += 3;
                    return o;
                default: throw new InvalidDataException("AMF0 type " + t);
            }
        }

        private static string Str(byte[] d, ref int i)
        {
            int n = d[i] << 8 | d[i + 1];
            string s = Encoding.UTF8.GetString(d, i + 2, n);
            i += 2 + n;
            return s;
        }
    }
}
