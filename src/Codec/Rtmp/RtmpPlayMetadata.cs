using System.Buffers.Binary;

namespace Engine.Codec.Rtmp;

/// <summary>
/// The numbers of an onMetaData object that a player needs (0 when absent). Read without
/// allocating: keys are compared as UTF-8 bytes, other values skipped.
/// </summary>
internal readonly record struct RtmpPlayMetadata(double Width, double Height, double FrameRate, double VideoCodecId,
    double VideoDataRate, double AudioCodecId, double AudioSampleRate, double AudioChannels, double AudioDataRate)
{
    /// <summary>An onMetaData body: "onMetaData" (after an optional "@setDataFrame") then an object or ECMA array.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out RtmpPlayMetadata metadata)
    {
        metadata = default;
        if (StartsWithString(body, "@setDataFrame"u8, out var rest))
            body = rest;
        if (!StartsWithString(body, "onMetaData"u8, out body) || body.IsEmpty)
            return false;
        int header = body[0] switch { Amf0.Object => 1, Amf0.EcmaArray => 5, _ => -1 };
        if (header < 0 || body.Length < header)
            return false;
        body = body[header..];
        double w = 0, h = 0, fps = 0, vc = 0, vr = 0, ac = 0, rate = 0, ch = 0, ar = 0;
        while (true)
        {
            if (body.Length < 3)
                return false;
            int n = BinaryPrimitives.ReadUInt16BigEndian(body);
            if (n == 0 && body[2] == Amf0.ObjectEnd)
                break;
            if (body.Length < 2 + n)
                return false;
            var key = body.Slice(2, n);
            body = body[(2 + n)..];
            if (body.Length >= 9 && body[0] == Amf0.Number)
            {
                double v = BinaryPrimitives.ReadDoubleBigEndian(body[1..]);
                if (key.SequenceEqual("width"u8)) w = v;
                else if (key.SequenceEqual("height"u8)) h = v;
                else if (key.SequenceEqual("framerate"u8) || key.SequenceEqual("fps"u8)) fps = v;
                else if (key.SequenceEqual("videocodecid"u8)) vc = v;
                else if (key.SequenceEqual("videodatarate"u8)) vr = v;
                else if (key.SequenceEqual("audiocodecid"u8)) ac = v;
                else if (key.SequenceEqual("audiosamplerate"u8)) rate = v;
                else if (key.SequenceEqual("audiochannels"u8)) ch = v;
                else if (key.SequenceEqual("audiodatarate"u8)) ar = v;
                body = body[9..];
            }
            else if (body.Length >= 2 && body[0] == Amf0.Boolean && key.SequenceEqual("stereo"u8))
            {
                if (ch == 0)
                    ch = body[1] != 0 ? 2 : 1;
                body = body[2..];
            }
            else if (!Amf0.TrySkip(ref body))
                return false;
        }
        metadata = new RtmpPlayMetadata(w, h, fps, vc, vr, ac, rate, ch, ar);
        return true;
    }

    private static bool StartsWithString(ReadOnlySpan<byte> data, ReadOnlySpan<byte> value, out ReadOnlySpan<byte> rest)
    {
        rest = data;
        if (data.Length < 3 + value.Length || data[0] != Amf0.String || BinaryPrimitives.ReadUInt16BigEndian(data[1..]) != value.Length
            || !data.Slice(3, value.Length).SequenceEqual(value))
            return false;
        rest = data[(3 + value.Length)..];
        return true;
    }
}
