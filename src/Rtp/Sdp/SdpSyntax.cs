using System.Globalization;

namespace Engine.Rtp.Sdp;

/// <summary>Character classes and number rules of the SDP grammar (RFC 8866 §9).</summary>
internal static class SdpSyntax
{
    internal static readonly char[] Blanks = [' ', '\t'];

    internal static string[] Words(string s) => s.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);

    // RFC 8866 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
    internal static bool IsTokenChar(char c) =>
        c == '!' || (c >= '#' && c <= '\'') || c == '*' || c == '+' || c == '-' || c == '.' ||
        (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= '^' && c <= '~');

    internal static bool IsToken(string? s)
    {
        if (string.IsNullOrEmpty(s)) return false;
        foreach (char c in s)
            if (!IsTokenChar(c)) return false;
        return true;
    }

    /// <summary>Non-empty and free of blanks and control characters: an address, an id, a value.</summary>
    internal static bool IsWord(string? s)
    {
        if (string.IsNullOrEmpty(s)) return false;
        foreach (char c in s)
            if (c <= ' ' || c == '\x7f') return false;
        return true;
    }

    // RFC 8839 §5.4 ice-char = ALPHA / DIGIT / "+" / "/"
    internal static bool IsIceChars(string? s)
    {
        if (string.IsNullOrEmpty(s)) return false;
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '+' || c == '/')) return false;
        return true;
    }

    internal static bool TryParseInt(string? s, int min, int max, out int value)
    {
        value = 0;
        if (s is null || s.Length == 0 || s.Length > 10) return false;
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v < min || v > max) return false;
        value = (int)v;
        return true;
    }

    internal static bool TryParseUInt(string? s, out uint value)
    {
        value = 0;
        return s is not null && s.Length <= 10 && uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    internal static bool TryParseDirection(string s, out SdpDirection d)
    {
        d = s switch
        {
            "sendrecv" => SdpDirection.SendRecv,
            "sendonly" => SdpDirection.SendOnly,
            "recvonly" => SdpDirection.RecvOnly,
            "inactive" => SdpDirection.Inactive,
            _ => SdpDirection.None,
        };
        return d != SdpDirection.None;
    }

    internal static string Format(SdpDirection d) => d switch
    {
        SdpDirection.SendRecv => "sendrecv",
        SdpDirection.SendOnly => "sendonly",
        SdpDirection.RecvOnly => "recvonly",
        SdpDirection.Inactive => "inactive",
        _ => "",
    };

    internal static bool TryParseSetup(string s, out SdpSetupRole role)
    {
        role = s switch
        {
            "active" => SdpSetupRole.Active,
            "passive" => SdpSetupRole.Passive,
            "actpass" => SdpSetupRole.ActPass,
            "holdconn" => SdpSetupRole.HoldConn,
            _ => SdpSetupRole.None,
        };
        return role != SdpSetupRole.None;
    }

    internal static string Format(SdpSetupRole r) => r switch
    {
        SdpSetupRole.Active => "active",
        SdpSetupRole.Passive => "passive",
        SdpSetupRole.ActPass => "actpass",
        SdpSetupRole.HoldConn => "holdconn",
        _ => "",
    };

    internal static string Format(int v) => v.ToString(CultureInfo.InvariantCulture);

    internal static string Format(uint v) => v.ToString(CultureInfo.InvariantCulture);
}
