using System.Buffers.Binary;
using Engine.Srtp;

namespace Engine.Srtp.Bench;

/// <summary>Fixed packets and keys for the benchmarks.</summary>
internal static class BenchPackets
{
    public const uint Ssrc = 0x1234_5678;

    public static byte[] KeyingMaterial(SrtpProfile profile)
    {
        byte[] material = new byte[SrtpSession.KeyingMaterialLength(profile)];
        new Random(42).NextBytes(material);
        return material;
    }

    /// <summary>RFC 5764 §4.2 layout, the client's (sending) half.</summary>
    public static (byte[] Key, byte[] Salt) ClientHalf(SrtpProfile profile, byte[] material)
    {
        int k = SrtpSession.KeyLength(profile), s = SrtpSession.SaltLength(profile);
        return (material[..k], material[(2 * k)..(2 * k + s)]);
    }

    /// <summary>An RTP packet of <paramref name="size"/> bytes: 12-byte header, one 8-byte header extension, payload.</summary>
    public static byte[] Rtp(int size)
    {
        byte[] packet = new byte[size];
        new Random(size).NextBytes(packet);
        packet[0] = 0x90; // V=2, X=1
        packet[1] = 96;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), Ssrc);
        packet[12] = 0xBE; packet[13] = 0xDE; packet[14] = 0; packet[15] = 1;
        return packet;
    }

    /// <summary>An RTCP compound of 80 bytes: SR with one report block (52) and SDES with a CNAME (28).</summary>
    public static byte[] RtcpCompound()
    {
        byte[] packet = new byte[80];
        new Random(7).NextBytes(packet);
        packet[0] = 0x81; packet[1] = 200; packet[2] = 0; packet[3] = 12;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), Ssrc);
        packet[52] = 0x81; packet[53] = 202; packet[54] = 0; packet[55] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(56), Ssrc);
        packet[60] = 1; packet[61] = 16; // CNAME, 16 bytes, then end-of-items padding
        return packet;
    }
}
