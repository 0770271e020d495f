using System.Buffers.Binary;

namespace Engine.Dtls.Handshake;

/// <summary>
/// A ClientHello body (RFC 6347 §4.2.1, RFC 5246 §7.4.1.2): client_version(2) random(32)
/// session_id&lt;0..32&gt; cookie&lt;0..2^8-1&gt; cipher_suites&lt;2..2^16-2&gt;
/// compression_methods&lt;1..2^8-1&gt; extensions&lt;0..2^16-1&gt;.
/// </summary>
public readonly ref struct ClientHelloView
{
    public ushort ClientVersion { get; init; }

    public ReadOnlySpan<byte> Random { get; init; }

    public ReadOnlySpan<byte> SessionId { get; init; }

    public ReadOnlySpan<byte> Cookie { get; init; }

    /// <summary>Raw u16 cipher suite values.</summary>
    public ReadOnlySpan<byte> CipherSuites { get; init; }

    public ReadOnlySpan<byte> CompressionMethods { get; init; }

    public ReadOnlySpan<byte> Extensions { get; init; }

    public static bool TryRead(ReadOnlySpan<byte> body, out ClientHelloView hello)
    {
        hello = default;
        if (body.Length < 2 + 32 + 1) return false;
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(body);
        ReadOnlySpan<byte> random = body.Slice(2, 32);
        ReadOnlySpan<byte> rest = body[34..];
        if (!TryTakeU8Vector(rest, out ReadOnlySpan<byte> sessionId, out rest) || sessionId.Length > 32) return false;
        if (!TryTakeU8Vector(rest, out ReadOnlySpan<byte> cookie, out rest)) return false;
        if (!HelloExtensions.TryReadU16List(rest, out ReadOnlySpan<byte> suites, out int consumed) || suites.Length == 0) return false;
        rest = rest[consumed..];
        if (!TryTakeU8Vector(rest, out ReadOnlySpan<byte> compression, out rest) || compression.Length == 0) return false;
        ReadOnlySpan<byte> extensions = default;
        if (rest.Length > 0)
        {
            if (rest.Length < 2) return false;
            int len = BinaryPrimitives.ReadUInt16BigEndian(rest);
            if (rest.Length != 2 + len) return false;
            extensions = rest[2..];
            if (!HelloExtensions.IsWellFormed(extensions)) return false;
        }
        hello = new ClientHelloView
        {
            ClientVersion = version,
            Random = random,
            SessionId = sessionId,
            Cookie = cookie,
            CipherSuites = suites,
            CompressionMethods = compression,
            Extensions = extensions,
        };
        return true;
    }

    public bool OffersCipherSuite(ushort suite) => HelloExtensions.ContainsU16(CipherSuites, suite);

    public bool TryGetExtension(ExtensionType type, out ReadOnlySpan<byte> data) => HelloExtensions.TryFind(Extensions, type, out data);

    /// <summary>Raw u16 SRTP protection profile ids from use_srtp, if present and well formed.</summary>
    public bool TryGetSrtpProfiles(out ReadOnlySpan<byte> profiles)
    {
        profiles = default;
        return TryGetExtension(ExtensionType.UseSrtp, out ReadOnlySpan<byte> data) && HelloExtensions.TryReadUseSrtp(data, out profiles);
    }

    /// <summary>Raw u16 named groups from supported_groups (RFC 8422 §5.1.1).</summary>
    public bool TryGetSupportedGroups(out ReadOnlySpan<byte> groups)
    {
        groups = default;
        return TryGetExtension(ExtensionType.SupportedGroups, out ReadOnlySpan<byte> data) && HelloExtensions.TryReadU16List(data, out groups, out _);
    }

    public bool OffersExtendedMasterSecret => TryGetExtension(ExtensionType.ExtendedMasterSecret, out _);

    internal static bool TryTakeU8Vector(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> vector, out ReadOnlySpan<byte> rest)
    {
        vector = default;
        rest = default;
        if (data.Length < 1 || data.Length - 1 < data[0]) return false;
        vector = data.Slice(1, data[0]);
        rest = data[(1 + data[0])..];
        return true;
    }
}
