namespace Engine.Gcc;

/// <summary>What a queued packet is; the <see cref="Pacer"/> serves kinds in this order of priority.</summary>
public enum PacedPacketKind : byte
{
    /// <summary>Small and latency-critical: sent first, never held by the pacing budget.</summary>
    Audio,
    /// <summary>A repair is worth more than new media (the receiver is waiting for it).</summary>
    Retransmission,
    Video,
    /// <summary>Made by the pacer when a probe needs bytes and no media is queued (the sender sends RTX padding).</summary>
    Padding,
}
