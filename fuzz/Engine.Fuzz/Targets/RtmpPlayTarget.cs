using System.Buffers.Binary;
using Engine.Codec;
using Engine.Codec.Rtmp;

namespace Engine.Fuzz.Targets;

/// <summary>
/// What an RTMP server sends a playing client, after a fixed valid handshake: chunk headers (all
/// four formats, extended timestamps, long chunk stream ids), control and user control messages,
/// AMF0 commands and onStatus, onMetaData, aggregate messages, and the FLV audio/video bodies,
/// which go on through <see cref="FlvTagDemuxer"/> as the pull path will send them. The first
/// byte: bit 6 starts the session already playing (nginx-rtmp's opening: chunk size 4096, the
/// connect and createStream results, Play.Start), the low 6 bits size the pieces fed to
/// <see cref="RtmpPlaySession.Receive"/>. The session must stay within its bounds and fail with a reason.
/// </summary>
public sealed class RtmpPlayTarget : FuzzTarget
{
    private static readonly RtmpUrl Url = new("127.0.0.1", 1935, "live", "cam");
    private static readonly byte[] Handshake = MakeHandshake();
    private static readonly byte[] Opening = MakeOpening();

    public override string Name => "rtmp-play";
    public override string Description => "RTMP play client and FLV demux: server chunks, control, AMF0 commands, metadata, aggregates and media after the handshake";
    public override int MaxLength => 16384;
    public override string[] DictionaryAssemblies => ["Engine.Codec"];
    public override string[] Tokens => ["_result", "_error", "onStatus", "onMetaData", "@setDataFrame", "NetStream.Play.Start", "NetStream.Play.Reset",
        "NetStream.Play.UnpublishNotify", "NetStream.Play.PublishNotify", "NetStream.Play.StreamNotFound", "level", "code", "error", "width", "height",
        "\"\\x02\\x00\"", "\"\\x00\\x00\\x09\"", "\"\\x17\\x00\\x00\\x00\\x00\\x01\"", "\"\\xaf\\x00\\x12\\x10\"", "\"\\x00\\x06\"", "\"\\x00\\x01\""];

    private sealed class Sink : IRtmpPlayHandler
    {
        public readonly FlvTagDemuxer Demux = new();
        public int Events;

        public void OnEvent(in RtmpPlayEvent e)
        {
            Events++;
            if (e.Payload.Length > RtmpPlaySession.MaxMessage)
                throw new InvalidOperationException($"an event of {e.Payload.Length} bytes");
            if (e.Kind == RtmpPlayEventKind.Video && Demux.DemuxVideo(e.Millis, e.Payload, out var v) == FlvDemuxResult.Frame)
            {
                if (v.NalCount == 0 || v.AnnexB.Length < 4 * v.NalCount || v.TagDataLength != e.Payload.Length - 5)
                    throw new InvalidOperationException("a frame that does not add up");
                for (int i = 0; i < v.NalCount; i++)
                    if (v.Nal(i).IsEmpty)
                        throw new InvalidOperationException("an empty NAL unit");
            }
            else if (e.Kind == RtmpPlayEventKind.Audio && Demux.DemuxAudio(e.Millis, e.Payload, out var a) == FlvDemuxResult.Frame && a.Data.Length != e.Payload.Length - 2)
                throw new InvalidOperationException("an AAC frame that does not add up");
        }
    }

    public override bool Run(Span<byte> input)
    {
        var sink = new Sink();
        var s = new RtmpPlaySession(Url, sink);
        s.Start(0);
        if (input.IsEmpty)
            return false;
        bool playing = (input[0] & 0x40) != 0;
        s.Receive(playing ? Opening : Handshake);
        if (s.HasFailed || (playing && s.State != RtmpPlayState.Playing))
            throw new InvalidOperationException("the fixed opening failed: " + s.Error);
        s.Outgoing.Consume(s.Outgoing.Length);
        int piece = 1 + (input[0] & 0x3F) * 64;
        var rest = input[1..];
        while (!rest.IsEmpty && !s.HasFailed)
        {
            int n = Math.Min(piece, rest.Length);
            s.Receive(rest[..n]);
            rest = rest[n..];
            if (s.Outgoing.Length > 1 << 20)
                throw new InvalidOperationException($"outgoing {s.Outgoing.Length}: over the bound");
            if ((rest.Length & 1) == 0)
                s.Outgoing.Consume(s.Outgoing.Length);
        }
        if (s.HasFailed && string.IsNullOrEmpty(s.Error))
            throw new InvalidOperationException("failed without an error");
        sink.Demux.Dispose();
        return sink.Events > 0;
    }

    private static byte[] MakeHandshake()
    {
        byte[] b = new byte[1 + 2 * RtmpPlaySession.HandshakeSize];
        b[0] = 3;
        return b;
    }

    // As nginx-rtmp opens (tests/fixtures/rtmp): chunk size 4096, connect and createStream results, Play.Start.
    private static byte[] MakeOpening()
    {
        var o = new List<byte>(MakeHandshake());
        void Message(int csid, byte type, uint stream, ReadOnlySpan<byte> payload)
        {
            o.AddRange([(byte)csid, 0, 0, 0, (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, (byte)stream, 0, 0, 0]);
            o.AddRange(payload.ToArray()); // each is under the 4096-byte chunk size set first
        }
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(size, 4096);
        Message(2, 1, 0, size);
        var b = new ByteBuffer(256, 4096);
        Amf0.WriteString(b, "_result"); Amf0.WriteNumber(b, 1); Amf0.WriteNull(b); Amf0.WriteNull(b);
        Message(3, 20, 0, b.Span);
        b.Clear();
        Amf0.WriteString(b, "_result"); Amf0.WriteNumber(b, 2); Amf0.WriteNull(b); Amf0.WriteNumber(b, 1);
        Message(3, 20, 0, b.Span);
        b.Clear();
        Amf0.WriteString(b, "onStatus"); Amf0.WriteNumber(b, 0); Amf0.WriteNull(b);
        Amf0.WriteObjectStart(b);
        Amf0.WriteKey(b, "level"); Amf0.WriteString(b, "status");
        Amf0.WriteKey(b, "code"); Amf0.WriteString(b, "NetStream.Play.Start");
        Amf0.WriteObjectEnd(b);
        Message(5, 20, 1, b.Span);
        return o.ToArray();
    }
}
