namespace Engine.Host.Transport;

/// <summary>Classifies a datagram received on the one UDP media port (RFC 7983, RFC 5761 §4).</summary>
public static class DatagramDemux
{
    // Shortest well-formed packet of each kind: STUN header 20, DTLS record header 13,
    // TURN ChannelData header 4, RTP fixed header 12, RTCP header 4 + SSRC 4.
    private const int MinStun = 20, MinDtls = 13, MinChannelData = 4, MinRtp = 12, MinRtcp = 8;

    public static DatagramKind Classify(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty)
            return DatagramKind.Unknown;
        byte b = datagram[0];
        switch (b)
        {
            case <= 3:
                return datagram.Length >= MinStun ? DatagramKind.Stun : DatagramKind.Unknown;
            case >= 16 and <= 19:
                return DatagramKind.Zrtp;
            case >= 20 and <= 63:
                return datagram.Length >= MinDtls ? DatagramKind.Dtls : DatagramKind.Unknown;
            case >= 64 and <= 79:
                return datagram.Length >= MinChannelData ? DatagramKind.TurnChannelData : DatagramKind.Unknown;
            case >= 128 and <= 191:
                if (datagram.Length < MinRtcp)
                    return DatagramKind.Unknown;
                // RFC 5761 §4: with rtcp-mux, payload types 64-95 (marker ignored) are RTCP,
                // i.e. second byte 192-223 covers SR/RR/SDES/BYE/APP/RTPFB/PSFB/XR.
                byte pt = datagram[1];
                if (pt is >= 192 and <= 223)
                    return DatagramKind.Rtcp;
                return datagram.Length >= MinRtp ? DatagramKind.Rtp : DatagramKind.Unknown;
            default:
                return DatagramKind.Unknown;
        }
    }
}
