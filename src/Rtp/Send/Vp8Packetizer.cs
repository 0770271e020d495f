namespace Engine.Rtp.Send;

/// <summary>
/// Splits VP8 frames into RTP payloads (RFC 7741 §4): every payload starts with a 4-byte
/// descriptor (X=1, S on the frame's first packet, PID 0, then I=1 and a 15-bit picture id that
/// advances per frame); the frame is sent as one partition, cut into near-equal pieces of at most
/// <see cref="MaxPayloadSize"/>. The marker goes on the last packet of a frame (§4.1). Allocates nothing.
/// </summary>
public sealed class Vp8Packetizer
{
    /// <summary>X|R|N|S|R|PID, I|L|T|K|RSV, then M=1 and the 15-bit picture id (RFC 7741 §4.2).</summary>
    public const int DescriptorSize = 4;

    public const int ClockRate = 90_000;

    private int _pictureId;

    public Vp8Packetizer(int maxPayloadSize = H264Packetizer.DefaultMaxPayloadSize, int firstPictureId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadSize, DescriptorSize + 1);
        MaxPayloadSize = maxPayloadSize;
        _pictureId = firstPictureId & 0x7FFF;
    }

    public int MaxPayloadSize { get; }
    /// <summary>The picture id the next frame gets.</summary>
    public int PictureId => _pictureId;
    public long Frames { get; private set; }

    /// <summary>How many payloads <paramref name="frameLength"/> bytes take (0 for an empty frame).</summary>
    public int PacketCount(int frameLength) =>
        frameLength <= 0 ? 0 : (frameLength + MaxPayloadSize - DescriptorSize - 1) / (MaxPayloadSize - DescriptorSize);

    /// <summary>
    /// Writes the payload that starts at <paramref name="offset"/> of <paramref name="frame"/> and
    /// advances it; <paramref name="last"/> says it ended the frame (set the marker). Returns the
    /// payload's length, or 0 when the frame is empty or done or <paramref name="destination"/> is too small.
    /// Pieces are near-equal so no packet is a tiny tail.
    /// </summary>
    public int Next(ReadOnlySpan<byte> frame, ref int offset, Span<byte> destination, out bool last, bool nonReference = false)
    {
        last = false;
        if (offset < 0 || offset >= frame.Length)
            return 0;
        int packets = PacketCount(frame.Length);
        int piece = (frame.Length + packets - 1) / packets;
        int length = Math.Min(piece, frame.Length - offset);
        if (destination.Length < DescriptorSize + length)
            return 0;
        destination[0] = (byte)(0x80 | (nonReference ? 0x20 : 0) | (offset == 0 ? 0x10 : 0)); // X, N, S; PID 0
        destination[1] = 0x80; // I
        destination[2] = (byte)(0x80 | _pictureId >> 8); // M: 15-bit picture id
        destination[3] = (byte)_pictureId;
        frame.Slice(offset, length).CopyTo(destination[DescriptorSize..]);
        offset += length;
        if (offset == frame.Length)
        {
            last = true;
            _pictureId = (_pictureId + 1) & 0x7FFF;
            Frames++;
        }
        return DescriptorSize + length;
    }
}
