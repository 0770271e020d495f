namespace Engine.Gcc;

/// <summary>
/// The deltas between two consecutive packet groups (draft-ietf-rmcat-gcc-02 §5.2): send-time delta,
/// arrival-time delta, and the arrival time of the later group's last packet, all in microseconds.
/// </summary>
public readonly record struct InterArrivalDelta(long SendDeltaMicros, long ArrivalDeltaMicros, long ArrivalMicros, int SizeDeltaBytes);
