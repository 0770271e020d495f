using Engine.Host.Sessions;

namespace Engine.Host.Playback;

/// <summary>One answered m-line of a player: which publisher track feeds it and how it is sent.</summary>
public sealed record PlayTrack(string Mid, MediaKind Kind, string Codec, int PublisherTrack, byte PayloadType, int ClockRate, uint Ssrc,
    uint? RtxSsrc, byte RtxPayloadType);
