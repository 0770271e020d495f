namespace Engine.Rtp.Rtcp;

/// <summary>Writes a Picture Loss Indication (RFC 4585 §6.3.1).</summary>
public struct Pli
{
    public const int SerializedLength = 12;

    public uint SenderSsrc;
    public uint MediaSsrc;

    public readonly int GetSerializedLength() => SerializedLength;

    public readonly int Write(Span<byte> destination)
    {
        if (destination.Length < SerializedLength)
            return 0;
        RtcpPacketView.WriteFeedbackHeader(destination, PliView.Format, RtcpPacketType.PayloadSpecificFeedback, SerializedLength, SenderSsrc, MediaSsrc);
        return SerializedLength;
    }
}
