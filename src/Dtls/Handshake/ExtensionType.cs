namespace Engine.Dtls.Handshake;

/// <summary>The TLS extensions we read or write (IANA values).</summary>
public enum ExtensionType : ushort
{
    SupportedGroups = 0x000A,
    EcPointFormats = 0x000B,
    SignatureAlgorithms = 0x000D,
    UseSrtp = 0x000E,
    ExtendedMasterSecret = 0x0017,
    SupportedVersions = 0x002B,
    RenegotiationInfo = 0xFF01,
}
