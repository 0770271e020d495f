namespace Engine.Dtls.Record;

/// <summary>RFC 5246 §6.2.1 record content types.</summary>
public enum ContentType : byte
{
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
}
