using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Engine.Rtp.Sdp;

/// <summary>An ICE candidate line (RFC 8839 §5.1), with the extensions browsers add
/// (tcptype RFC 6544 §4.5, generation, ufrag, network-id, network-cost). Unknown extensions
/// are kept in order.</summary>
public sealed class IceCandidate
{
    public const int MaxFoundationLength = 32;

    public string Foundation { get; set; } = "";

    /// <summary>1 = RTP, 2 = RTCP (RFC 8445 §5.1.1.1); 1..256.</summary>
    public int Component { get; set; } = 1;

    /// <summary>"udp" or "tcp" as written (the grammar compares it case-insensitively).</summary>
    public string Transport { get; set; } = "udp";

    public uint Priority { get; set; }

    /// <summary>IP address or FQDN (mDNS ".local" names included), as written.</summary>
    public string Address { get; set; } = "";

    public int Port { get; set; }

    /// <summary>host, srflx, prflx, relay, or an extension token.</summary>
    public string Type { get; set; } = "host";

    public string? RelatedAddress { get; set; }

    public int? RelatedPort { get; set; }

    public string? TcpType { get; set; }

    public int? Generation { get; set; }

    public string? Ufrag { get; set; }

    public int? NetworkId { get; set; }

    public int? NetworkCost { get; set; }

    public List<SdpParameter> Extensions { get; } = new();

    /// <summary>Parses "candidate:..." with or without the leading "a=" and "candidate:" (the
    /// trickle form from RTCIceCandidate.candidate starts with "candidate:").</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out IceCandidate? candidate, out string reason)
    {
        candidate = null;
        if (text is null) { reason = "candidate is missing"; return false; }
        var s = text.AsSpan().Trim();
        if (s.StartsWith("a=")) s = s[2..];
        if (s.StartsWith("candidate:")) s = s["candidate:".Length..];
        if (s.Length > SessionDescription.MaxLineLength) { reason = "candidate is too long"; return false; }

        var t = s.ToString().Split((char[]?)[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 8) { reason = "candidate needs '<foundation> <component> <transport> <priority> <address> <port> typ <type>'"; return false; }
        var c = new IceCandidate();
        if (t[0].Length > MaxFoundationLength || !SdpSyntax.IsIceChars(t[0])) { reason = $"foundation '{t[0]}' must be 1-32 ice-chars"; return false; }
        c.Foundation = t[0];
        if (!SdpSyntax.TryParseInt(t[1], 1, 256, out int component)) { reason = $"component '{t[1]}' is not 1-256"; return false; }
        c.Component = component;
        if (!SdpSyntax.IsWord(t[2])) { reason = $"transport '{t[2]}' is not a token"; return false; }
        c.Transport = t[2];
        if (!uint.TryParse(t[3], NumberStyles.None, CultureInfo.InvariantCulture, out uint priority)) { reason = $"priority '{t[3]}' is not a 32-bit number"; return false; }
        c.Priority = priority;
        if (!SdpSyntax.IsWord(t[4])) { reason = $"address '{t[4]}' is not valid"; return false; }
        c.Address = t[4];
        if (!SdpSyntax.TryParseInt(t[5], 0, 65535, out int port)) { reason = $"port '{t[5]}' is not 0-65535"; return false; }
        c.Port = port;
        if (t[6] != "typ") { reason = $"expected 'typ' but found '{t[6]}'"; return false; }
        if (!SdpSyntax.IsWord(t[7])) { reason = $"candidate type '{t[7]}' is not a token"; return false; }
        c.Type = t[7];

        // The rest is name/value pairs: raddr/rport (RFC 8839 §5.1) then extensions.
        if ((t.Length - 8) % 2 != 0) { reason = $"extension '{t[^1]}' has no value"; return false; }
        for (int i = 8; i < t.Length; i += 2)
        {
            string name = t[i], value = t[i + 1];
            if (!c.TrySetExtension(name, value, out reason)) return false;
        }
        candidate = c;
        reason = "";
        return true;
    }

    private bool TrySetExtension(string name, string value, out string reason)
    {
        reason = "";
        if (!SdpSyntax.IsWord(name) || !SdpSyntax.IsWord(value)) { reason = $"extension '{name} {value}' is not two tokens"; return false; }
        bool duplicate = false;
        switch (name)
        {
            case "raddr":
                duplicate = RelatedAddress != null;
                RelatedAddress = value;
                break;
            case "rport":
                duplicate = RelatedPort != null;
                if (!SdpSyntax.TryParseInt(value, 0, 65535, out int rport)) { reason = $"rport '{value}' is not 0-65535"; return false; }
                RelatedPort = rport;
                break;
            case "tcptype":
                duplicate = TcpType != null;
                TcpType = value;
                break;
            case "generation":
                duplicate = Generation != null;
                if (!SdpSyntax.TryParseInt(value, 0, int.MaxValue, out int gen)) { reason = $"generation '{value}' is not a number"; return false; }
                Generation = gen;
                break;
            case "ufrag":
                duplicate = Ufrag != null;
                Ufrag = value;
                break;
            case "network-id":
                duplicate = NetworkId != null;
                if (!SdpSyntax.TryParseInt(value, 0, int.MaxValue, out int nid)) { reason = $"network-id '{value}' is not a number"; return false; }
                NetworkId = nid;
                break;
            case "network-cost":
                duplicate = NetworkCost != null;
                if (!SdpSyntax.TryParseInt(value, 0, int.MaxValue, out int cost)) { reason = $"network-cost '{value}' is not a number"; return false; }
                NetworkCost = cost;
                break;
            default:
                Extensions.Add(new SdpParameter(name, value));
                break;
        }
        if (duplicate) { reason = $"'{name}' appears twice"; return false; }
        return true;
    }

    /// <summary>"candidate:..." without "a=" (the RTCIceCandidate.candidate form).</summary>
    public override string ToString()
    {
        var b = new StringBuilder(128);
        var inv = CultureInfo.InvariantCulture;
        b.Append("candidate:").Append(Foundation).Append(' ').Append(Component.ToString(inv)).Append(' ')
            .Append(Transport).Append(' ').Append(Priority.ToString(inv)).Append(' ').Append(Address).Append(' ')
            .Append(Port.ToString(inv)).Append(" typ ").Append(Type);
        if (RelatedAddress != null) b.Append(" raddr ").Append(RelatedAddress);
        if (RelatedPort is int rp) b.Append(" rport ").Append(rp.ToString(inv));
        if (TcpType != null) b.Append(" tcptype ").Append(TcpType);
        if (Generation is int g) b.Append(" generation ").Append(g.ToString(inv));
        if (Ufrag != null) b.Append(" ufrag ").Append(Ufrag);
        if (NetworkId is int n) b.Append(" network-id ").Append(n.ToString(inv));
        if (NetworkCost is int nc) b.Append(" network-cost ").Append(nc.ToString(inv));
        foreach (var e in Extensions) b.Append(' ').Append(e.Name).Append(' ').Append(e.Value);
        return b.ToString();
    }
}
