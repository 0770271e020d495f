using System.Buffers.Binary;
using Engine.Rtp.Send;
using Engine.Rtp.Tests.Send;
using Engine.Rtp.Tests.Video;

namespace Engine.Rtp.Tests.Receive;

/// <summary>One RTP packet of a test stream: its bytes and what it carries.</summary>
internal sealed record LossPacket(byte[] Bytes, ushort Seq, int Frame, bool Padding, bool Key, bool NonReference);

/// <summary>
/// Test streams as a sender would put them on the wire: H.264 from the ffmpeg-made Annex B files
/// through our <see cref="H264Packetizer"/>; VP8/VP9 frames as ffmpeg's RTP muxer split them, with
/// the payload descriptor rewritten to carry picture IDs and layer fields (ffmpeg writes none or
/// no layers). Optional padding-only packets after each frame, as Chromium probes on the media SSRC.
/// </summary>
internal static class LossTestStreams
{
    public const uint Ssrc = 0x11223344;

    public static List<LossPacket> H264(string file, int paddingAfterEachFrame = 0, ushort firstSeq = 1000, int maxPayloadSize = H264Packetizer.DefaultMaxPayloadSize)
    {
        var aus = SendTestData.AccessUnits(file);
        var packetizer = new H264Packetizer(maxPayloadSize);
        var list = new List<LossPacket>();
        var payload = new byte[packetizer.MaxPayloadSize];
        ushort seq = firstSeq;
        for (int i = 0; i < aus.Count; i++)
        {
            bool key = aus[i].Any(n => (n[0] & 0x1F) == 5);
            bool nonRef = aus[i].Where(n => (n[0] & 0x1F) is >= 1 and <= 5).All(n => (n[0] & 0x60) == 0);
            uint ts = (uint)(i * 6000);
            var cursor = packetizer.Begin(SendTestData.AnnexB(aus[i]));
            while (cursor.TryNext(payload, out int n, out bool marker))
                list.Add(new LossPacket(Rtp(seq, ts, marker, payload.AsSpan(0, n)), seq++, i, false, key, nonRef));
            for (int k = 0; k < paddingAfterEachFrame; k++)
                list.Add(new LossPacket(Rtp(seq, ts, false, default, padding: 224), seq++, i, true, false, false));
        }
        return list;
    }

    /// <summary>
    /// VP8 frames (keyframe every 10th). <paramref name="layers"/> 1: picture ID only; 2: TL0PICIDX
    /// and TID alternate 0,1 with TL1 marked N=1 when <paramref name="upperLayerNonReference"/>,
    /// else Y=1 on every other TL1 frame (frames 1, 5, 9...).
    /// </summary>
    public static List<LossPacket> Vp8(int layers = 1, bool upperLayerNonReference = true, int paddingAfterEachFrame = 0, ushort firstSeq = 2000)
    {
        var list = new List<LossPacket>();
        int frame = 0;
        ushort seq = firstSeq;
        var dump = H264TestData.ReadRtpDump("vp8-320x240.rtp");
        foreach (var p in dump)
        {
            // ffmpeg: X=1, I=1 with a 15-bit picture ID: 4 bytes.
            Assert.Equal(0x80, p.Payload[0] & 0x80);
            bool start = (p.Payload[0] & 0x10) != 0;
            var body = p.Payload.AsSpan(4);
            bool key = frame % 10 == 0;
            int tid = layers == 1 ? 0 : frame % 2;
            int tl0 = (frame / 2) & 0xFF; // RFC 7741 §4.2: one more at each TID 0 frame
            bool nonRef = tid == 1 && upperLayerNonReference;
            bool sync = tid == 1 && !upperLayerNonReference && frame % 4 == 1;
            var d = new List<byte> { (byte)(0x80 | (nonRef ? 0x20 : 0) | (start ? 0x10 : 0)) };
            d.Add((byte)(0x80 | (layers > 1 ? 0x60 : 0)));
            int pid = (frame + 7000) & 0x7FFF; // wraps nowhere near, starts away from 0
            d.Add((byte)(0x80 | pid >> 8));
            d.Add((byte)pid);
            if (layers > 1)
            {
                d.Add((byte)tl0);
                d.Add((byte)(tid << 6 | (sync ? 0x20 : 0)));
            }
            d.AddRange(body.ToArray());
            list.Add(new LossPacket(Rtp(seq, p.Timestamp, p.Marker, d.ToArray()), seq++, frame, false, key, nonRef));
            if (p.Marker)
            {
                for (int k = 0; k < paddingAfterEachFrame; k++)
                    list.Add(new LossPacket(Rtp(seq, p.Timestamp, false, default, padding: 224), seq++, frame, true, false, false));
                frame++;
            }
        }
        return list;
    }

    /// <summary>
    /// VP9 pictures (keyframe every 10th) with a 15-bit picture ID. Flexible mode: an odd picture
    /// refers to the one before it (P_DIFF 1), an even one to the even one before (P_DIFF 2), so odd
    /// pictures are referred to by none. Non-flexible: no layer fields, picture IDs only.
    /// </summary>
    public static List<LossPacket> Vp9(bool flexible, int paddingAfterEachFrame = 0, ushort firstSeq = 3000)
    {
        var list = new List<LossPacket>();
        int frame = 0;
        ushort seq = firstSeq;
        foreach (var p in H264TestData.ReadRtpDump("vp9-320x240.rtp"))
        {
            byte b0 = p.Payload[0]; // ffmpeg: B and E only
            Assert.Equal(0, b0 & 0xF3);
            bool key = frame % 10 == 0;
            int sinceKey = frame % 10;
            var d = new List<byte> { (byte)(0x80 | (key ? 0 : 0x40) | (flexible ? 0x10 : 0) | (b0 & 0x0C)) };
            int pid = (frame + 30000) & 0x7FFF;
            d.Add((byte)(0x80 | pid >> 8));
            d.Add((byte)pid);
            if (flexible && !key)
                d.Add((byte)((sinceKey % 2 == 1 ? 1 : 2) << 1)); // P_DIFF(7)|N(1)
            d.AddRange(p.Payload.AsSpan(1).ToArray());
            bool nonRef = flexible && sinceKey % 2 == 1;
            list.Add(new LossPacket(Rtp(seq, p.Timestamp, p.Marker, d.ToArray()), seq++, frame, false, key, nonRef));
            if (p.Marker)
            {
                for (int k = 0; k < paddingAfterEachFrame; k++)
                    list.Add(new LossPacket(Rtp(seq, p.Timestamp, false, default, padding: 224), seq++, frame, true, false, false));
                frame++;
            }
        }
        return list;
    }

    public static byte[] Rtp(ushort seq, uint ts, bool marker, ReadOnlySpan<byte> payload, byte padding = 0)
    {
        var packet = new RtpPacket { PayloadType = 96, SequenceNumber = seq, Timestamp = ts, Ssrc = Ssrc, Marker = marker, Payload = payload, PaddingLength = padding };
        var buffer = new byte[packet.GetSerializedLength()];
        Assert.Equal(buffer.Length, packet.Write(buffer));
        if (padding > 0)
            buffer[^1] = padding; // RFC 3550 §5.1: the last octet counts the padding
        return buffer;
    }

    /// <summary>The ffmpeg RTP dump as it is (VP9: no picture ID, so no dependency information).</summary>
    public static List<LossPacket> Raw(string file)
    {
        var bytes = File.ReadAllBytes(H264TestData.PathOf(file));
        var list = new List<LossPacket>();
        int frame = 0;
        for (int o = 0; o + 2 <= bytes.Length;)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(o));
            var packet = bytes.AsSpan(o + 2, len).ToArray();
            o += 2 + len;
            list.Add(new LossPacket(packet, SeqOf(packet), frame, false, frame % 10 == 0, false));
            if ((packet[1] & 0x80) != 0)
                frame++;
        }
        return list;
    }

    public static int FrameCount(List<LossPacket> packets) => packets[^1].Frame + 1;

    public static ushort SeqOf(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));
}
