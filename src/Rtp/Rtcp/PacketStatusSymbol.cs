namespace Engine.Rtp.Rtcp;

/// <summary>Packet status symbols (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.1).</summary>
public enum PacketStatusSymbol : byte
{
    NotReceived = 0,
    /// <summary>Received; an 8-bit unsigned recv delta follows (0..63.75 ms).</summary>
    ReceivedSmallDelta = 1,
    /// <summary>Received; a 16-bit signed recv delta follows (-8192..8191.75 ms).</summary>
    ReceivedLargeDelta = 2,
    /// <summary>"[Reserved]" in §3.1.1, yet §3.1.3 example 2 calls it "packet received, w/o recv delta"; read as that, never written.</summary>
    ReceivedWithoutDelta = 3,
}
