using Engine.Ice;

namespace Engine.Host.Transport;

/// <summary>
/// The sans-IO contract a session offers the media loop (ARCHITECTURE.md, "The sans-IO contract"):
/// datagrams and time in; datagrams, a next deadline and a closed flag out. Called only on the
/// loop's thread.
/// </summary>
public interface IMediaSession
{
    /// <summary>Our ICE ufrag: STUN checks are routed by it.</summary>
    string LocalUfrag { get; }

    /// <summary>The datagram is writable (SRTP decrypts in place) and borrowed only for the call.</summary>
    void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros);

    /// <summary>
    /// As above, with the datagram's arrival on the same clock (the kernel's receive stamp, at most
    /// <paramref name="nowMicros"/>) for the delay estimates; sessions that estimate nothing ignore it.
    /// </summary>
    void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros, long arrivalMicros) => HandleDatagram(datagram, from, nowMicros);

    void HandleTimeout(long nowMicros);

    /// <summary>The next datagram to send, written into <paramref name="destination"/>.</summary>
    bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to);

    /// <summary>long.MaxValue when nothing is scheduled.</summary>
    long NextTimeoutMicros { get; }

    /// <summary>The remote address media comes from now (after a nominated check), or null before.</summary>
    NetAddress? SelectedRemote { get; }

    /// <summary>True once the session has ended; the loop then forgets it and calls <see cref="OnRemoved"/>.</summary>
    bool IsClosed { get; }

    /// <summary>Called once on the loop thread after the session left the loop (free buffers, notify).</summary>
    void OnRemoved();
}
