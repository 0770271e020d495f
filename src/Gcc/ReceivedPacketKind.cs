namespace Engine.Gcc;

/// <summary>What a received packet carries, for the receive-side estimator's delay groups.</summary>
public enum ReceivedPacketKind
{
    /// <summary>A first transmission of media: sent at the media's own pace, it forms the delay groups.</summary>
    Media,

    /// <summary>A resend (RTX or plain), including a sender's redundant RTX probes: counted in the rate, not grouped.</summary>
    Retransmission,

    /// <summary>Padding only (a bandwidth probe): counted in the rate, not grouped.</summary>
    Padding,
}
