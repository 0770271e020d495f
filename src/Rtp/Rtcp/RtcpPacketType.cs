namespace Engine.Rtp.Rtcp;

/// <summary>RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §2).</summary>
public enum RtcpPacketType : byte
{
    SenderReport = 200,
    ReceiverReport = 201,
    SourceDescription = 202,
    Goodbye = 203,
    ApplicationDefined = 204,
    /// <summary>Transport layer feedback: generic NACK (FMT 1), transport-wide CC (FMT 15).</summary>
    TransportFeedback = 205,
    /// <summary>Payload-specific feedback: PLI (FMT 1), FIR (FMT 4), REMB (FMT 15).</summary>
    PayloadSpecificFeedback = 206,
    ExtendedReport = 207,
}
