namespace Engine.Ice.Turn;

/// <summary>
/// The client's 5-tuple (RFC 8656 §2): transport, client address and the server address it
/// reached. An allocation is identified by it.
/// </summary>
public readonly struct TurnFiveTuple : IEquatable<TurnFiveTuple>
{
    public TurnFiveTuple(TurnTransport transport, NetAddress client, NetAddress server)
    {
        Transport = transport;
        Client = client;
        Server = server;
    }

    public TurnTransport Transport { get; }
    public NetAddress Client { get; }
    public NetAddress Server { get; }

    /// <summary>TCP and TLS carry a byte stream, so ChannelData is padded to 4 bytes (RFC 8656 §12.5).</summary>
    public bool IsStream => Transport != TurnTransport.Udp;

    public bool Equals(TurnFiveTuple other) => Transport == other.Transport && Client == other.Client && Server == other.Server;

    public override bool Equals(object? obj) => obj is TurnFiveTuple other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Transport, Client, Server);

    public static bool operator ==(TurnFiveTuple left, TurnFiveTuple right) => left.Equals(right);

    public static bool operator !=(TurnFiveTuple left, TurnFiveTuple right) => !left.Equals(right);

    public override string ToString() => $"{Transport} {Client} -> {Server}";
}
