using System.Globalization;

namespace Engine.Rtp.Sdp;

/// <summary>One payload type of an RTP media section with its a=rtpmap, a=fmtp and a=rtcp-fb
/// lines gathered together (RFC 8866 §6.6, §6.15; RFC 4585 §4.2).</summary>
public sealed class RtpCodec
{
    public RtpCodec(int payloadType) => PayloadType = payloadType;

    public RtpCodec(int payloadType, string name, int clockRate, int? channels = null)
    {
        PayloadType = payloadType;
        Name = name;
        ClockRate = clockRate;
        Channels = channels;
    }

    public int PayloadType { get; set; }

    /// <summary>Encoding name from a=rtpmap, or null for a static payload type without one.</summary>
    public string? Name { get; set; }

    public int ClockRate { get; set; }

    /// <summary>The optional third rtpmap field (audio channels); null when absent.</summary>
    public int? Channels { get; set; }

    /// <summary>a=fmtp parameters in order; empty when the payload type has no fmtp line.</summary>
    public List<SdpParameter> Parameters { get; } = new();

    public List<SdpRtcpFeedback> Feedback { get; } = new();

    public bool IsNamed(string name) => string.Equals(Name, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>The value of an fmtp parameter; names compare case-insensitively (RFC 6184 §8.1
    /// and most payload formats define them so).</summary>
    public string? GetParameter(string name)
    {
        foreach (var p in Parameters)
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    public bool TryGetIntParameter(string name, out int value)
    {
        value = 0;
        var s = GetParameter(name);
        return s != null && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The rtx "apt" parameter: the payload type this one retransmits (RFC 4588 §8.1).</summary>
    public int? AssociatedPayloadType => TryGetIntParameter("apt", out int apt) ? apt : null;

    /// <summary>H264 profile-level-id as its three bytes (RFC 6184 §8.1: profile_idc,
    /// profile-iop, level_idc in 6 hex digits). False when absent or malformed.</summary>
    public bool TryGetH264ProfileLevelId(out byte profileIdc, out byte profileIop, out byte levelIdc)
    {
        profileIdc = profileIop = levelIdc = 0;
        var s = GetParameter("profile-level-id");
        if (s is null || s.Length != 6 || !int.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v))
            return false;
        profileIdc = (byte)(v >> 16);
        profileIop = (byte)(v >> 8);
        levelIdc = (byte)v;
        return true;
    }

    /// <summary>H264 packetization-mode (RFC 6184 §8.1): 0 when absent, as the RFC says to infer;
    /// -1 when present but not a number.</summary>
    public int H264PacketizationMode
    {
        get
        {
            var s = GetParameter("packetization-mode");
            if (s is null) return 0;
            return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? m : -1;
        }
    }

    public override string ToString() => Name is null
        ? PayloadType.ToString(CultureInfo.InvariantCulture)
        : $"{PayloadType} {Name}/{ClockRate}" + (Channels is int c ? "/" + c.ToString(CultureInfo.InvariantCulture) : "");
}
