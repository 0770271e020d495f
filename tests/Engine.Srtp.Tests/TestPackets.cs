using System.Buffers.Binary;

namespace Engine.Srtp.Tests;

/// <summary>Random but well-formed RTP and RTCP packets and DTLS-SRTP keying material for tests.</summary>
internal static class TestPackets
{
    public static byte[] KeyingMaterial(Random rng, SrtpProfile profile)
    {
        byte[] material = new byte[SrtpSession.KeyingMaterialLength(profile)];
        rng.NextBytes(material);
        return material;
    }

    /// <summary>RFC 5764 §4.2: client key, server key, client salt, server salt.</summary>
    public static (byte[] Key, byte[] Salt) Split(SrtpProfile profile, byte[] material, bool client)
    {
        int k = SrtpSession.KeyLength(profile), s = SrtpSession.SaltLength(profile);
        return client
            ? (material[..k], material[(2 * k)..(2 * k + s)])
            : (material[k..(2 * k)], material[(2 * k + s)..(2 * k + 2 * s)]);
    }

    /// <summary>An RTP packet with random CSRCs, maybe a one-byte-header extension, and a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static byte[] Rtp(Random rng, uint ssrc, ushort seq, int payloadLength)
    {
        int csrcs = rng.Next(3);
        int extensionWords = rng.Next(2) == 0 ? 0 : rng.Next(1, 4);
        int header = 12 + 4 * csrcs + (extensionWords > 0 ? 4 + 4 * extensionWords : 0);
        byte[] packet = new byte[header + payloadLength];
        rng.NextBytes(packet);
        packet[0] = (byte)(0x80 | (extensionWords > 0 ? 0x10 : 0) | csrcs);
        packet[1] = (byte)(packet[1] & 0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        if (extensionWords > 0)
        {
            int at = 12 + 4 * csrcs;
            packet[at] = 0xBE;
            packet[at + 1] = 0xDE;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(at + 2), (ushort)extensionWords);
        }
        return packet;
    }

    /// <summary>An RTCP receiver report with <paramref name="bodyWords"/> random 32-bit words after the SSRC.</summary>
    public static byte[] Rtcp(Random rng, uint ssrc, int bodyWords)
    {
        byte[] packet = new byte[8 + 4 * bodyWords];
        rng.NextBytes(packet);
        packet[0] = 0x80;
        packet[1] = 201;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)(1 + bodyWords));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), ssrc);
        return packet;
    }

    /// <summary>A copy with room for any trailer after it.</summary>
    public static byte[] WithRoom(ReadOnlySpan<byte> packet, int room = 256)
    {
        byte[] buffer = new byte[packet.Length + room];
        packet.CopyTo(buffer);
        return buffer;
    }
}
