using System.Buffers.Binary;
using System.Net;

namespace Engine.Ice.Turn;

/// <summary>
/// An IPv4 or IPv6 prefix ("10.0.0.0/8", "::1/128", or a single address). IPv4-mapped IPv6
/// (::ffff:a.b.c.d) is taken as IPv4, in ranges and in the addresses tested, so one address has
/// one form (CVE-2026-27624 was a mapped loopback passing a deny list).
/// </summary>
public readonly struct TurnIpRange
{
    // The address left-aligned in 128 bits (IPv4 in the top 32).
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly ulong _maskHigh;
    private readonly ulong _maskLow;
    private readonly bool _isIPv6;

    public TurnIpRange(NetAddress network, int prefixLength)
    {
        network = network.UnmapIPv4();
        _isIPv6 = network.IsIPv6;
        int bits = _isIPv6 ? 128 : 32;
        PrefixLength = Math.Clamp(prefixLength, 0, bits);
        (_maskHigh, _maskLow) = Mask(PrefixLength);
        var (h, l) = Bits(network);
        _high = h & _maskHigh;
        _low = l & _maskLow;
    }

    public int PrefixLength { get; }

    public bool IsIPv6 => _isIPv6;

    public static TurnIpRange Parse(string text) =>
        TryParse(text, out var range) ? range : throw new FormatException($"not an IP range: {text}");

    public static bool TryParse(string? text, out TurnIpRange range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        text = text.Trim();
        int slash = text.IndexOf('/');
        string address = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(address, out var ip))
            return false;
        var net = NetAddress.FromIPEndPoint(new IPEndPoint(ip, 0)).UnmapIPv4();
        int max = net.IsIPv6 ? 128 : 32;
        int prefix = max;
        if (slash >= 0)
        {
            if (!int.TryParse(text.AsSpan(slash + 1), out prefix) || prefix < 0)
                return false;
            // A mapped range written as ::ffff:10.0.0.0/104 is the IPv4 /8.
            if (ip.IsIPv4MappedToIPv6)
                prefix -= 96;
            if (prefix < 0 || prefix > max)
                return false;
        }
        range = new TurnIpRange(net, prefix);
        return true;
    }

    /// <summary>Whether the address (port ignored, IPv4-mapped unmapped) lies in the range.</summary>
    public bool Contains(in NetAddress address)
    {
        var a = address.UnmapIPv4();
        if (a.IsIPv6 != _isIPv6)
            return false;
        var (h, l) = Bits(a);
        return (h & _maskHigh) == _high && (l & _maskLow) == _low;
    }

    internal static (ulong High, ulong Low) Bits(in NetAddress a)
    {
        Span<byte> bytes = stackalloc byte[16];
        int n = a.WriteAddressBytes(bytes);
        if (n == 4)
            return ((ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 32, 0);
        return (BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    private static (ulong, ulong) Mask(int prefix)
    {
        if (prefix == 0)
            return (0, 0);
        if (prefix <= 64)
            return (ulong.MaxValue << (64 - prefix), 0);
        return (ulong.MaxValue, prefix == 128 ? ulong.MaxValue : ulong.MaxValue << (128 - prefix));
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _low);
        return $"{new IPAddress(_isIPv6 ? bytes : bytes[..4])}/{PrefixLength}";
    }
}
