using System.Buffers.Binary;

namespace Engine.Codec.Tests;

/// <summary>
/// The server's side of an RTMP play, scripted by a test: it parses what the client wrote (any
/// chunk format, the client's chunk size) and builds server chunks with the header format, chunk
/// size and timestamps the test asks for. Written apart from the engine's parser.
/// </summary>
internal sealed class ScriptedRtmpServer
{
    public sealed record Message(byte Type, uint StreamId, uint Timestamp, byte[] Payload);

    private int _clientChunkSize = 128;
    private readonly Dictionary<int, (Message Header, List<byte> Data, bool Extended)> _open = new();
    private readonly Dictionary<int, (uint Timestamp, int Length, byte Type, uint StreamId)> _lastSent = new();

    /// <summary>The server's chunk size for what it builds (the test also sends a set chunk size to match).</summary>
    public int ChunkSize { get; set; } = 128;

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
                Assert.Equal(3, fmt); // the client writes fmt 0 and continuation chunks only
                if (_open[csid].Extended)
                    span = span[4..];
            }
            var (header, data, _) = _open[csid];
            int n = Math.Min(_clientChunkSize, header.Payload.Length - data.Count);
            data.AddRange(span[..n].ToArray());
            span = span[n..];
            if (data.Count == header.Payload.Length)
            {
                _open.Remove(csid);
                var m = header with { Payload = data.ToArray() };
                if (m.Type == 1)
                    _clientChunkSize = (int)BinaryPrimitives.ReadUInt32BigEndian(m.Payload);
                messages.Add(m);
            }
        }
        Assert.Empty(_open);
        return messages;
    }

    /// <summary>
    /// One message as chunks. <paramref name="fmt"/> null picks what a server would (0 for a new
    /// chunk stream, else 1, 2 or 3 by what repeats); a fixed value forces that header.
    /// </summary>
    public byte[] Chunks(int csid, byte type, uint stream, uint timestamp, byte[] payload, int? fmt = null)
    {
        int f;
        uint field;
        if (!_lastSent.TryGetValue(csid, out var last))
            f = 0;
        else if (last.StreamId != stream || timestamp < last.Timestamp)
            f = 0;
        else if (last.Length != payload.Length || last.Type != type)
            f = 1;
        else
            f = 2;
        if (fmt is int forced)
            f = forced;
        field = f == 0 ? timestamp : timestamp - last.Timestamp;
        _lastSent[csid] = (timestamp, payload.Length, type, stream);
        bool ext = field >= 0xFFFFFF;
        var b = new List<byte> { (byte)(f << 6 | csid) };
        uint ts3 = ext ? 0xFFFFFF : field;
        if (f <= 2)
            b.AddRange([(byte)(ts3 >> 16), (byte)(ts3 >> 8), (byte)ts3]);
        if (f <= 1)
            b.AddRange([(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type]);
        if (f == 0)
            b.AddRange(BitConverter.GetBytes(stream)); // little-endian
        if (ext)
            b.AddRange(U32(field));
        for (int i = 0; i < payload.Length || i == 0; i += ChunkSize)
        {
            if (i > 0)
            {
                b.Add((byte)(0xC0 | csid));
                if (ext)
                    b.AddRange(U32(field));
            }
            b.AddRange(payload.Skip(i).Take(ChunkSize));
            if (payload.Length == 0)
                break;
        }
        return b.ToArray();
    }

    public static byte[] U32(uint v)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    /// <summary>A test-side AMF0 codec.</summary>
    public static class Amf
    {
        public static Dictionary<string, object?> Obj(params (string Key, object? Value)[] props) => props.ToDictionary(p => p.Key, p => p.Value);

        public static byte[] Encode(params object?[] values)
        {
            var b = new List<byte>();
            foreach (var v in values)
                Put(b, v);
            return b.ToArray();
        }

        /// <summary>An ECMA array (what onMetaData uses).</summary>
        public sealed record EcmaArray(Dictionary<string, object?> Props);

        private static void Put(List<byte> b, object? v)
        {
            switch (v)
            {
                case null: b.Add(5); break;
                case bool x: b.Add(1); b.Add(x ? (byte)1 : (byte)0); break;
                case double d:
                    b.Add(0);
                    b.AddRange(BitConverter.GetBytes(d).AsEnumerable().Reverse());
                    break;
                case string s:
                    b.Add(2);
                    Key(b, s);
                    break;
                case EcmaArray a:
                    b.Add(8);
                    b.AddRange(U32((uint)a.Props.Count));
                    Props(b, a.Props);
                    break;
                case Dictionary<string, object?> o:
                    b.Add(3);
                    Props(b, o);
                    break;
                default: throw new ArgumentException(v.GetType().Name);
            }
        }

        private static void Props(List<byte> b, Dictionary<string, object?> o)
        {
            foreach (var (k, val) in o)
            {
                Key(b, k);
                Put(b, val);
            }
            b.AddRange([0, 0, 9]);
        }

        private static void Key(List<byte> b, string s)
        {
            var u = System.Text.Encoding.UTF8.GetBytes(s);
            b.Add((byte)(u.Length >> 8));
            b.Add((byte)u.Length);
            b.AddRange(u);
        }

        public static List<object?> Parse(byte[] data)
        {
            var list = new List<object?>();
            int o = 0;
            while (o < data.Length)
                list.Add(Value(data, ref o));
            return list;
        }

        private static object? Value(byte[] d, ref int o)
        {
            byte t = d[o++];
            switch (t)
            {
                case 0: { double v = BinaryPrimitives.ReadDoubleBigEndian(d.AsSpan(o)); o += 8; return v; }
                case 1: return d[o++] != 0;
                case 2: { int n = d[o] << 8 | d[o + 1]; var s = System.Text.Encoding.UTF8.GetString(d, o + 2, n); o += 2 + n; return s; }
                case 3:
                {
                    var dict = new Dictionary<string, object?>();
                    while (true)
                    {
                        int n = d[o] << 8 | d[o + 1];
                        if (n == 0 && d[o + 2] == 9) { o += 3; return dict; }
                        var k = System.Text.Encoding.UTF8.GetString(d, o + 2, n);
                        o += 2 + n;
                        dict[k] = Value(d, ref o);
                    }
                }
                case 5: return null;
                default: throw new InvalidDataException("AMF type " + t);
            }
        }
    }
}
