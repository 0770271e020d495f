namespace Engine.Gcc;

/// <summary>
/// A burst sent at <see cref="TargetBps"/> to learn whether the path carries it: at least
/// <see cref="MinPackets"/> packets and <see cref="MinBytes"/> bytes, media first, then padding.
/// </summary>
public readonly record struct ProbeCluster(int Id, long TargetBps, int MinPackets, int MinBytes);
