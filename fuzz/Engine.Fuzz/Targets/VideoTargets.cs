using System.Buffers.Binary;
using Engine.Rtp.Video;

namespace Engine.Fuzz.Targets;

/// <summary>
/// Depacketizer targets take a sequence of RTP payloads in one input, each as
/// [flags:1][length:2 BE][payload]: flags 0x80 = marker, 0x40 = next timestamp, low 3 bits = extra
/// sequence numbers skipped (loss). A short last record takes what is left.
/// </summary>
public abstract class DepacketizerTarget : FuzzTarget
{
    public override int MaxLength => 8192;
    public override string[] DictionaryAssemblies => ["Engine.Rtp"];

    protected abstract void Push(ReadOnlySpan<byte> payload, long seqNo, uint rtpTimestamp, bool marker);

    /// <summary>Drains and inspects completed frames; returns how many.</summary>
    protected abstract int Poll();

    protected abstract void Reset();

    public override bool Run(Span<byte> input)
    {
        Reset();
        long seq = 1000;
        uint ts = 90_000;
        int frames = 0, offset = 0;
        // Each record consumes at least one byte, so this ends.
        while (offset < input.Length)
        {
            byte flags = input[offset++];
            int length = input.Length - offset >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(input[offset..]) : 0;
            offset = Math.Min(offset + 2, input.Length);
            length = Math.Min(length, input.Length - offset);
            seq += 1 + (flags & 7);
            if ((flags & 0x40) != 0)
                ts += 3000;
            Push(input.Slice(offset, length), seq, ts, (flags & 0x80) != 0);
            offset += length;
            frames += Poll();
        }
        return frames > 0;
    }
}

/// <summary>RFC 6184 H264 depacketizer (single NAL, STAP-A, FU-A) and the SPS parser on every SPS it outputs.</summary>
public sealed class H264Target : DepacketizerTarget
{
    private H264Depacketizer _d = new();
    private readonly byte[] _annexB = new byte[1 << 16];
    private long _sink;

    public override string Name => "h264";
    public override string Description => "H264 depacketizer: payload sequence -> frames (AVCC NAL walk, Annex B write, SPS parse)";
    public override string[] Tokens => ["\"\\x18\"", "\"\\x1c\\x85\"", "\"\\x1c\\x45\"", "\"\\x1c\\x05\"", "\"\\x67\\x42\\xc0\\x1f\"", "\"\\x68\"", "\"\\x65\"", "\"\\x00\\x00\\x00\\x01\""];

    protected override void Reset() => _d = new H264Depacketizer(maxFrameBytes: 1 << 16);

    protected override void Push(ReadOnlySpan<byte> payload, long seqNo, uint rtpTimestamp, bool marker) => _d.Push(payload, seqNo, rtpTimestamp, marker);

    protected override int Poll()
    {
        int n = 0;
        // A frame per pushed packet at most; the bound is generous.
        for (int guard = 0; guard < 1024 && _d.TryPollFrame(out var frame); guard++)
        {
            n++;
            int nals = 0;
            foreach (var nal in frame)
            {
                nals++;
                if (nal.Length > 0 && (nal[0] & 0x1f) == 7 && H264Sps.TryParse(nal, out var sps))
                    _sink += sps.Width + sps.Height + sps.ProfileLevelId.Length;
            }
            if (frame.AnnexBLength <= _annexB.Length)
            {
                int written = frame.WriteAnnexB(_annexB);
                if (written != frame.AnnexBLength)
                    throw new InvalidOperationException($"WriteAnnexB wrote {written}, AnnexBLength says {frame.AnnexBLength}");
            }
            _sink += nals + frame.NalCount + frame.RtpTimestamp + (frame.IsKeyframe ? 1 : 0);
        }
        return n;
    }
}

/// <summary>The H264 SPS parser (exp-Golomb, VUI skipped, cropping) on a raw NAL unit.</summary>
public sealed class H264SpsTarget : FuzzTarget
{
    public override string Name => "h264-sps";
    public override string Description => "H264 SPS: H264Sps.TryParse on one NAL unit (with its header byte)";
    public override int MaxLength => 512;

    public override bool Run(Span<byte> input)
    {
        if (!H264Sps.TryParse(input, out var sps))
            return false;
        return sps.Width >= 0 && sps.Height >= 0 && sps.ProfileLevelId.Length == 6;
    }
}

/// <summary>A VP8/VP9 target: the shared <see cref="VideoDepacketizer"/> push/poll, one codec's parser.</summary>
public abstract class VpxTarget : DepacketizerTarget
{
    private VideoDepacketizer? _d;
    private long _sink;

    protected abstract VideoDepacketizer Create();

    protected override void Reset() => _d = Create();

    protected override void Push(ReadOnlySpan<byte> payload, long seqNo, uint rtpTimestamp, bool marker) => _d!.Push(payload, seqNo, rtpTimestamp, marker);

    protected override int Poll()
    {
        int n = 0;
        for (int guard = 0; guard < 1024 && _d!.TryPollFrame(out var frame); guard++)
        {
            n++;
            _sink += frame.Data.Length + frame.Width + frame.Height + frame.RtpTimestamp;
        }
        return n;
    }
}

/// <summary>RFC 7741 VP8 depacketizer.</summary>
public sealed class Vp8Target : VpxTarget
{
    public override string Name => "vp8";
    public override string Description => "VP8 depacketizer (RFC 7741 payload descriptor, key frame header): payload sequence -> frames";

    protected override VideoDepacketizer Create() => new Vp8Depacketizer(maxFrameBytes: 1 << 16);
}

/// <summary>VP9 depacketizer (RFC 9628 payload descriptor and scalability structure).</summary>
public sealed class Vp9Target : VpxTarget
{
    public override string Name => "vp9";
    public override string Description => "VP9 depacketizer (RFC 9628 payload descriptor, SS): payload sequence -> frames";

    protected override VideoDepacketizer Create() => new Vp9Depacketizer(maxFrameBytes: 1 << 16);
}
