namespace Engine.Rtp.Rtcp;

/// <summary>Writes a Full Intra Request (RFC 5104 §4.3.1) with one or more entries.</summary>
public ref struct Fir
{
    public uint SenderSsrc;
    public ReadOnlySpan<FirEntry> Entries;

    public readonly int GetSerializedLength() => 12 + Entries.Length * FirEntry.Length;

    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || Entries.IsEmpty)
            return 0;
        // RFC 5104 §4.3.1.2: "SSRC of media source" is not used and set to 0.
        RtcpPacketView.WriteFeedbackHeader(destination, FirView.Format, RtcpPacketType.PayloadSpecificFeedback, length, SenderSsrc, 0);
        for (int i = 0; i < Entries.Length; i++)
            Entries[i].Write(destination[(12 + i * FirEntry.Length)..]);
        return length;
    }
}
