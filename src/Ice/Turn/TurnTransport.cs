namespace Engine.Ice.Turn;

/// <summary>The transport between a TURN client and the server (RFC 8656 §3.1).</summary>
public enum TurnTransport : byte
{
    Udp,
    Tcp,
    Tls,
}
