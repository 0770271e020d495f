namespace Engine.Dtls;

/// <summary>Which side of the handshake we play. WebRTC answers to an actpass offer make us the server.</summary>
public enum DtlsRole
{
    Client,
    Server,
}
