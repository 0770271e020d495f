using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Writes a REMB (draft-alvestrand-rmcat-remb-03 §2.2); the bitrate is rounded down to 18 bits of mantissa.</summary>
public ref struct Remb
{
    public uint SenderSsrc;
    public ulong BitrateBps;
    public ReadOnlySpan<uint> Ssrcs;

    public readonly int GetSerializedLength() => 20 + 4 * Ssrcs.Length;

    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || Ssrcs.Length > 255)
            return 0;
        // §2.2: media SSRC is always 0; the SSRC list names the streams.
        RtcpPacketView.WriteFeedbackHeader(destination, RembView.Format, RtcpPacketType.PayloadSpecificFeedback, length, SenderSsrc, 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], RembView.Identifier);
        int exponent = 0;
        while ((BitrateBps >> exponent) > 0x3ffff)
            exponent++;
        uint mantissa = (uint)(BitrateBps >> exponent);
        destination[16] = (byte)Ssrcs.Length;
        destination[17] = (byte)(exponent << 2 | (int)(mantissa >> 16));
        destination[18] = (byte)(mantissa >> 8);
        destination[19] = (byte)mantissa;
        for (int i = 0; i < Ssrcs.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(destination[(20 + 4 * i)..], Ssrcs[i]);
        return length;
    }
}
