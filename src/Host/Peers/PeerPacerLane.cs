using Engine.Gcc;
using Engine.Rtp.Send;

namespace Engine.Host.Peers;

/// <summary>
/// One send stream's way into its peer's single <see cref="Pacer"/>: the stream's packet ids go in as
/// handles tagged with the track (<see cref="Handle"/>), audio as audio, video as video or (a NACK's
/// resend, id bit 0) retransmission. The peer polls the pacer and asks the stream for the packet
/// (<see cref="RtpSendStream.TryWriteQueued"/>), so the stream itself never releases anything here.
/// </summary>
internal sealed class PeerPacerLane(Pacer pacer, int track, bool audio) : IRtpPacer
{
    /// <summary>Tracks per peer a handle can name (a peer has a handful).</summary>
    public const int MaxTracks = 64;

    public int QueuedPackets { get; private set; }

    public static long Handle(long packetId, int track) => packetId * MaxTracks + track;

    public static int TrackOf(long handle) => (int)(handle % MaxTracks);

    public static long PacketIdOf(long handle) => handle / MaxTracks;

    public bool TryEnqueue(long packetId, int size, long nowMicros)
    {
        var kind = audio ? PacedPacketKind.Audio : (packetId & 1) != 0 ? PacedPacketKind.Retransmission : PacedPacketKind.Video;
        if (!pacer.TryEnqueue(kind, size, Handle(packetId, track), nowMicros))
            return false;
        QueuedPackets++;
        return true;
    }

    /// <summary>The peer took one of this lane's packets out of the pacer (sent or expired).</summary>
    public void OnDequeued() => QueuedPackets--;

    // The peer's pacer decides: nothing leaves through the stream's own polling.
    public bool TryRelease(long nowMicros, out long packetId)
    {
        packetId = 0;
        return false;
    }

    public long NextReleaseMicros => long.MaxValue;
}
