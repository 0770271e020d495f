using System.Buffers.Binary;

namespace Engine.Dtls.Handshake;

/// <summary>Walks a hello's extensions block: extension_type(2) extension_data&lt;0..2^16-1&gt; (RFC 5246 §7.4.1.4).</summary>
public static class HelloExtensions
{
    public static bool IsWellFormed(ReadOnlySpan<byte> extensions)
    {
        while (extensions.Length > 0)
        {
            if (extensions.Length < 4) return false;
            int len = BinaryPrimitives.ReadUInt16BigEndian(extensions[2..]);
            if (extensions.Length - 4 < len) return false;
            extensions = extensions[(4 + len)..];
        }
        return true;
    }

    public static bool TryFind(ReadOnlySpan<byte> extensions, ExtensionType type, out ReadOnlySpan<byte> data)
    {
        while (extensions.Length >= 4)
        {
            ushort t = BinaryPrimitives.ReadUInt16BigEndian(extensions);
            int len = BinaryPrimitives.ReadUInt16BigEndian(extensions[2..]);
            if (extensions.Length - 4 < len) break;
            if (t == (ushort)type)
            {
                data = extensions.Slice(4, len);
                return true;
            }
            extensions = extensions[(4 + len)..];
        }
        data = default;
        return false;
    }

    /// <summary>A u16-length-prefixed list of u16 values (supported_groups, signature_algorithms, use_srtp profiles).</summary>
    public static bool TryReadU16List(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> list, out int consumed)
    {
        list = default;
        consumed = 0;
        if (data.Length < 2) return false;
        int len = BinaryPrimitives.ReadUInt16BigEndian(data);
        if ((len & 1) != 0 || data.Length - 2 < len) return false;
        list = data.Slice(2, len);
        consumed = 2 + len;
        return true;
    }

    public static bool ContainsU16(ReadOnlySpan<byte> list, ushort value)
    {
        for (int i = 0; i + 1 < list.Length; i += 2)
            if (BinaryPrimitives.ReadUInt16BigEndian(list[i..]) == value) return true;
        return false;
    }

    /// <summary>use_srtp (RFC 5764 §4.1.1): SRTPProtectionProfiles&lt;2..2^16-1&gt; then srtp_mki&lt;0..255&gt;.</summary>
    public static bool TryReadUseSrtp(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> profiles)
    {
        if (!TryReadU16List(data, out profiles, out int consumed) || profiles.Length == 0) return false;
        return data.Length > consumed && data.Length - consumed - 1 == data[consumed];
    }
}
