namespace Engine.Dtls;

public enum DtlsState
{
    New,
    Handshaking,
    Connected,
    Closed,
    Failed,
}
