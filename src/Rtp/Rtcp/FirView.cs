using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Full Intra Request (RFC 5104 §4.3.1): PSFB FMT 4; the media SSRC field is unused (§4.3.1.2),
/// the targets are the FCI entries.
/// </summary>
public readonly ref struct FirView
{
    public const int Format = 4;

    private readonly ReadOnlySpan<byte> _body;

    private FirView(ReadOnlySpan<byte> body) => _body = body;

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public int EntryCount => (_body.Length - 8) / FirEntry.Length;

    public FirEntry GetEntry(int index) => FirEntry.Read(_body.Slice(8 + index * FirEntry.Length, FirEntry.Length));

    public static bool TryRead(RtcpPacketView packet, out FirView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.PayloadSpecificFeedback || packet.Count != Format
            || body.Length < 8 + FirEntry.Length || (body.Length - 8) % FirEntry.Length != 0)
            return false;
        view = new FirView(body);
        return true;
    }
}
