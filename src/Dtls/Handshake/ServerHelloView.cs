using System.Buffers.Binary;

namespace Engine.Dtls.Handshake;

/// <summary>
/// A ServerHello body (RFC 5246 §7.4.1.3): server_version(2) random(32) session_id&lt;0..32&gt;
/// cipher_suite(2) compression_method(1) extensions&lt;0..2^16-1&gt;.
/// </summary>
public readonly ref struct ServerHelloView
{
    public ushort ServerVersion { get; init; }

    public ReadOnlySpan<byte> Random { get; init; }

    public ReadOnlySpan<byte> SessionId { get; init; }

    public ushort CipherSuite { get; init; }

    public byte CompressionMethod { get; init; }

    public ReadOnlySpan<byte> Extensions { get; init; }

    public static bool TryRead(ReadOnlySpan<byte> body, out ServerHelloView hello)
    {
        hello = default;
        if (body.Length < 2 + 32 + 1) return false;
        ReadOnlySpan<byte> rest = body[34..];
        if (!ClientHelloView.TryTakeU8Vector(rest, out ReadOnlySpan<byte> sessionId, out rest) || sessionId.Length > 32) return false;
        if (rest.Length < 3) return false;
        ushort suite = BinaryPrimitives.ReadUInt16BigEndian(rest);
        byte compression = rest[2];
        rest = rest[3..];
        ReadOnlySpan<byte> extensions = default;
        if (rest.Length > 0)
        {
            if (rest.Length < 2) return false;
            int len = BinaryPrimitives.ReadUInt16BigEndian(rest);
            if (rest.Length != 2 + len) return false;
            extensions = rest[2..];
            if (!HelloExtensions.IsWellFormed(extensions)) return false;
        }
        hello = new ServerHelloView
        {
            ServerVersion = BinaryPrimitives.ReadUInt16BigEndian(body),
            Random = body.Slice(2, 32),
            SessionId = sessionId,
            CipherSuite = suite,
            CompressionMethod = compression,
            Extensions = extensions,
        };
        return true;
    }

    public bool TryGetExtension(ExtensionType type, out ReadOnlySpan<byte> data) => HelloExtensions.TryFind(Extensions, type, out data);
}
