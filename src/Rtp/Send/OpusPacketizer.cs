namespace Engine.Rtp.Send;

/// <summary>
/// Opus over RTP (RFC 7587 §4.2): one Opus packet per RTP packet, the payload unchanged, the
/// timestamp advancing by the packet's duration at 48 kHz whatever the coded bandwidth.
/// </summary>
public static class OpusPacketizer
{
    public const int ClockRate = 48_000;

    /// <summary>Copies the frame as the payload; returns its length, or 0 when empty or it does not fit.</summary>
    public static int Write(ReadOnlySpan<byte> opusPacket, Span<byte> destination)
    {
        if (opusPacket.IsEmpty || opusPacket.Length > destination.Length)
            return 0;
        opusPacket.CopyTo(destination);
        return opusPacket.Length;
    }

    /// <summary>
    /// Samples at 48 kHz the packet holds (RFC 6716 §3.1: the TOC's config gives the frame size,
    /// the code c the frame count; code 3 puts the count in the next byte). 0 when malformed.
    /// </summary>
    public static int GetSamples(ReadOnlySpan<byte> opusPacket)
    {
        if (opusPacket.IsEmpty)
            return 0;
        int toc = opusPacket[0];
        int config = toc >> 3;
        int frameSamples = config switch
        {
            < 12 => (config & 3) switch { 0 => 480, 1 => 960, 2 => 1920, _ => 2880 }, // SILK 10/20/40/60 ms
            < 16 => (config & 1) == 0 ? 480 : 960, // hybrid 10/20 ms
            _ => (config & 3) switch { 0 => 120, 1 => 240, 2 => 480, _ => 960 }, // CELT 2.5/5/10/20 ms
        };
        int frames = (toc & 3) switch
        {
            0 => 1,
            1 or 2 => 2,
            _ => opusPacket.Length < 2 ? 0 : opusPacket[1] & 0x3F,
        };
        int samples = frameSamples * frames;
        return samples > 5760 ? 0 : samples; // §3.2.5: at most 120 ms
    }
}
