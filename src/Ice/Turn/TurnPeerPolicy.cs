namespace Engine.Ice.Turn;

/// <summary>
/// Which peers a relay may reach. Addresses are unmapped (::ffff:a.b.c.d → a.b.c.d) before any
/// check; allowed ranges are exceptions that win over both deny lists; the default list keeps the
/// relay off the server's own host and networks (CVE-2020-26262: 0.0.0.0 and [::1];
/// CVE-2026-27624: ::ffff:127.0.0.1). IPv6 forms that embed an IPv4 address (NAT64, 6to4) are
/// judged by the embedded address too.
/// </summary>
internal static class TurnPeerPolicy
{
    internal static readonly TurnIpRange[] DefaultDenied =
    {
        TurnIpRange.Parse("0.0.0.0/8"),
        TurnIpRange.Parse("10.0.0.0/8"),
        TurnIpRange.Parse("100.64.0.0/10"),
        TurnIpRange.Parse("127.0.0.0/8"),
        TurnIpRange.Parse("169.254.0.0/16"),
        TurnIpRange.Parse("172.16.0.0/12"),
        TurnIpRange.Parse("192.0.0.0/24"),
        TurnIpRange.Parse("192.168.0.0/16"),
        TurnIpRange.Parse("198.18.0.0/15"),
        TurnIpRange.Parse("224.0.0.0/4"),
        TurnIpRange.Parse("240.0.0.0/4"), // includes 255.255.255.255
        TurnIpRange.Parse("::/96"),       // ::, ::1 and the deprecated IPv4-compatible form
        TurnIpRange.Parse("::ffff:0:0:0/96"), // SIIT IPv4-translated
        TurnIpRange.Parse("100::/64"),    // discard-only
        TurnIpRange.Parse("2001::/32"),   // Teredo (embeds an obfuscated IPv4)
        TurnIpRange.Parse("fc00::/7"),
        TurnIpRange.Parse("fe80::/10"),
        TurnIpRange.Parse("fec0::/10"),   // deprecated site-local
        TurnIpRange.Parse("ff00::/8"),
    };

    private static readonly TurnIpRange Nat64 = TurnIpRange.Parse("64:ff9b::/96");
    private static readonly TurnIpRange Nat64Local = TurnIpRange.Parse("64:ff9b:1::/48");
    private static readonly TurnIpRange SixToFour = TurnIpRange.Parse("2002::/16");

    public static bool IsAllowed(in NetAddress peer, TurnIpRange[] allowed, TurnIpRange[] denied)
    {
        var a = peer.UnmapIPv4();
        foreach (var r in allowed)
            if (r.Contains(a))
                return true;
        if (!IsAllowedOne(a, denied))
            return false;
        if (a.IsIPv6)
        {
            // Judge the IPv4 address a translator or tunnel would deliver to.
            var (high, low) = TurnIpRange.Bits(a);
            if (Nat64.Contains(a) || Nat64Local.Contains(a))
                return IsAllowedEmbedded((uint)low, allowed, denied);
            if (SixToFour.Contains(a))
                return IsAllowedEmbedded((uint)(high >> 16), allowed, denied);
        }
        return true;
    }

    private static bool IsAllowedEmbedded(uint ipv4, TurnIpRange[] allowed, TurnIpRange[] denied)
    {
        var v4 = NetAddress.FromIPv4(ipv4, 0);
        foreach (var r in allowed)
            if (r.Contains(v4))
                return true;
        return IsAllowedOne(v4, denied);
    }

    private static bool IsAllowedOne(in NetAddress a, TurnIpRange[] denied)
    {
        foreach (var r in DefaultDenied)
            if (r.Contains(a))
                return false;
        foreach (var r in denied)
            if (r.Contains(a))
                return false;
        return true;
    }
}
