using Engine.Codec.Rtmp;

namespace Engine.Fuzz.Targets;

/// <summary>
/// What an RTMP server sends a publishing client, after a fixed valid handshake: chunk headers
/// (all four formats, extended timestamps, long chunk stream ids), control messages and AMF0
/// commands, fed to <see cref="RtmpPublishSession.Receive"/> in pieces whose sizes come from the
/// first byte. Media is written in between; the session must stay within its bounds.
/// </summary>
public sealed class RtmpTarget : FuzzTarget
{
    private const int MaxPending = 256 * 1024;
    private static readonly RtmpUrl Url = new("127.0.0.1", 1935, "live", "x");
    private static readonly byte[] Handshake = MakeHandshake();
    private static readonly byte[] Frame = new byte[3000];

    public override string Name => "rtmp";
    public override string Description => "RTMP publish client: server chunks, control messages and AMF0 commands after the handshake";
    public override int MaxLength => 4096;
    public override string[] DictionaryAssemblies => ["Engine.Codec"];
    public override string[] Tokens => ["_result", "_error", "onStatus", "NetStream.Publish.Start", "level", "code", "error", "\"\\x02\\x00\"", "\"\\x00\\x00\\x09\""];

    public override bool Run(Span<byte> input)
    {
        var s = new RtmpPublishSession(Url, MaxPending);
        s.Start(0);
        s.Receive(Handshake);
        if (s.HasFailed)
            throw new InvalidOperationException("the fixed handshake failed: " + s.Error);
        s.Outgoing.Consume(s.Outgoing.Length);
        if (input.IsEmpty)
            return false;
        int piece = 1 + input[0] % 64;
        var rest = input[1..];
        uint ms = 0;
        while (!rest.IsEmpty && !s.HasFailed)
        {
            int n = Math.Min(piece, rest.Length);
            s.Receive(rest[..n]);
            rest = rest[n..];
            s.WriteVideo(ms += 33, keyframe: false, sequenceHeader: false, Frame);
            if (s.PendingBytes > MaxPending + 64 * 1024 || s.Outgoing.Length > MaxPending + 128 * 1024)
                throw new InvalidOperationException($"pending {s.PendingBytes} bytes, outgoing {s.Outgoing.Length}: over the bound");
            s.Outgoing.Consume(s.Outgoing.Length / 2);
        }
        if (s.HasFailed && string.IsNullOrEmpty(s.Error))
            throw new InvalidOperationException("failed without an error");
        return s.IsLive;
    }

    private static byte[] MakeHandshake()
    {
        byte[] b = new byte[1 + 2 * RtmpPublishSession.HandshakeSize];
        b[0] = 3;
        return b;
    }
}
