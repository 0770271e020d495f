namespace Engine.Gcc;

/// <summary>
/// One decision of the <see cref="Pacer"/>: send the packet behind <see cref="Handle"/> now, or drop it
/// when <see cref="Expired"/> (it waited past the queue's time bound). A padding packet has handle -1 and
/// the size the probe asks for. <see cref="ProbeClusterId"/> is the probe it counts for (-1: none).
/// </summary>
public readonly record struct PacedPacket(PacedPacketKind Kind, int Size, long Handle, int ProbeClusterId, bool Expired);
