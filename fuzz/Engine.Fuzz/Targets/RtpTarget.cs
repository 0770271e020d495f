using Engine.Rtp;

namespace Engine.Fuzz.Targets;

/// <summary>RTP fixed header, CSRCs, padding and RFC 8285 header extensions (one- and two-byte forms).</summary>
public sealed class RtpTarget : FuzzTarget
{
    public override string Name => "rtp";
    public override string Description => "RTP: RtpPacketView.TryRead, every accessor, every header extension and its typed reader";
    public override int MaxLength => 1500;
    public override string[] DictionaryAssemblies => ["Engine.Rtp"];
    public override string[] Tokens => ["\"\\xbe\\xde\"", "\"\\x10\\x00\"", "\"\\x80\"", "\"\\x90\"", "\"\\xa0\"", "\"\\xb0\""];

    private long _sink;

    public override bool Run(Span<byte> input)
    {
        if (!RtpPacketView.TryRead(input, out var p))
            return false;
        if (p.HeaderLength + p.Payload.Length + p.PaddingLength != input.Length)
            throw new InvalidOperationException($"RTP lengths do not add up: header {p.HeaderLength} + payload {p.Payload.Length} + padding {p.PaddingLength} != {input.Length}");
        long sum = p.Version + p.CsrcCount + p.PayloadType + p.SequenceNumber + p.Timestamp + p.Ssrc + (p.Marker ? 1 : 0) + p.ExtensionProfile + p.ExtensionBlock.Length + p.Packet.Length;
        for (int i = 0; i < p.CsrcCount; i++)
            sum += p.GetCsrc(i);
        foreach (var ext in p.Extensions)
        {
            sum += ext.Id + ext.Data.Length;
            if (AbsSendTime.TryRead(ext.Data, out var abs)) sum += abs.Micros;
            if (AudioLevel.TryRead(ext.Data, out var level)) sum += level.LevelDbov;
            if (PlayoutDelay.TryRead(ext.Data, out var delay)) sum += delay.Min10Ms;
            if (TransportSequenceNumber.TryRead(ext.Data, out ushort twcc)) sum += twcc;
        }
        for (int id = 0; id < 256; id += 1 + (id >> 4))
        {
            if (p.TryGetExtension(id, out var data))
                sum += data.Length;
        }
        _sink += sum;
        return true;
    }
}
