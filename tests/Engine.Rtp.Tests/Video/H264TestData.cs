using System.Buffers.Binary;

namespace Engine.Rtp.Tests.Video;

/// <summary>Reads the ffmpeg-made test data in Video/testdata (see make.sh there).</summary>
internal static class H264TestData
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Video", "testdata", name);

    /// <summary>Splits an Annex B stream at 3- and 4-byte start codes.</summary>
    public static List<byte[]> AnnexBNals(byte[] stream)
    {
        var nals = new List<byte[]>();
        int start = -1;
        for (int i = 0; i + 2 < stream.Length; i++)
        {
            if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1)
            {
                if (start >= 0)
                    nals.Add(Trim(stream[start..i]));
                start = i + 3;
                i += 2;
            }
        }
        if (start >= 0)
            nals.Add(stream[start..]);
        return nals;

        // A 4-byte start code leaves its leading zero on the previous NAL.
        static byte[] Trim(byte[] nal) => nal.Length > 0 && nal[^1] == 0 ? nal[..^1] : nal;
    }

    /// <summary>A STAP-A (RFC 6184 §5.7.1) with the first SPS and PPS of the baseline stream.</summary>
    public static byte[] ParameterSetsStapA(string file = "baseline-320x240.h264")
    {
        var nals = AnnexBNals(File.ReadAllBytes(PathOf(file)));
        var sps = nals.First(n => (n[0] & 0x1F) == 7);
        var pps = nals.First(n => (n[0] & 0x1F) == 8);
        var stap = new List<byte> { 0x78 };
        foreach (var nal in new[] { sps, pps })
        {
            stap.Add((byte)(nal.Length >> 8));
            stap.Add((byte)nal.Length);
            stap.AddRange(nal);
        }
        return stap.ToArray();
    }

    public static byte[] FirstSps(string file) =>
        AnnexBNals(File.ReadAllBytes(PathOf(file))).First(n => (n[0] & 0x1F) == 7);

    public sealed record RtpPacket(ushort Seq, uint Timestamp, bool Marker, byte[] Payload);

    /// <summary>The RTP dump: per packet a 2-byte length then the packet. RTP parsed by hand (RFC 3550 §5.1).</summary>
    public static List<RtpPacket> ReadRtpDump(string file)
    {
        var bytes = File.ReadAllBytes(PathOf(file));
        var list = new List<RtpPacket>();
        for (int o = 0; o + 2 <= bytes.Length;)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(o));
            var p = bytes.AsSpan(o + 2, len);
            o += 2 + len;
            int header = 12 + 4 * (p[0] & 0x0F);
            if ((p[0] & 0x10) != 0)
                header += 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(p[(header + 2)..]);
            int end = (p[0] & 0x20) != 0 ? len - p[len - 1] : len;
            list.Add(new RtpPacket(BinaryPrimitives.ReadUInt16BigEndian(p[2..]), BinaryPrimitives.ReadUInt32BigEndian(p[4..]),
                (p[1] & 0x80) != 0, p[header..end].ToArray()));
        }
        return list;
    }
}
