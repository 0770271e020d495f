namespace Engine.Gcc;

/// <summary>
/// The deltas between two consecutive packet groups (draft-ietf-rmcat-gcc-02 §5.2): send-time delta,
/// arrival-time delta, and the arrival time of the later group's last packet, all in microseconds;
/// <paramref name="ForeignBytes"/> are bytes of packets outside the groups (retransmissions, probe
/// padding) that arrived within the arrival delta (see <see cref="InterArrivalGrouper.AddForeignBytes"/>).
/// </summary>
public readonly record struct InterArrivalDelta(long SendDeltaMicros, long ArrivalDeltaMicros, long ArrivalMicros, int SizeDeltaBytes, long ForeignBytes = 0);
