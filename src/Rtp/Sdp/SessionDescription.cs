using System.Diagnostics.CodeAnalysis;

namespace Engine.Rtp.Sdp;

/// <summary>A parsed SDP (RFC 8866) with the WebRTC subset modelled (RFC 8829 JSEP, RFC 8839
/// ICE, RFC 8843 BUNDLE, RFC 8122 fingerprint, RFC 5576 ssrc, RFC 8851/8853 rid and simulcast).
/// Unmodelled lines are kept so <see cref="Write"/> reproduces them.</summary>
public sealed class SessionDescription
{
    /// <summary>Largest accepted input, in characters. Browser offers are a few KiB.</summary>
    public const int MaxLength = 64 * 1024;

    public const int MaxLines = 8192;

    public const int MaxLineLength = 4096;

    public const int MaxMediaDescriptions = 128;

    public SdpOrigin Origin { get; set; } = new("-", "0", "0", "IN", "IP4", "127.0.0.1");

    public string SessionName { get; set; } = "-";

    public SdpConnection? Connection { get; set; }

    /// <summary>t= start and stop times (RFC 8866 §5.9); WebRTC always sends "0 0".</summary>
    public ulong StartTime { get; set; }

    public ulong StopTime { get; set; }

    public List<SdpGroup> Groups { get; } = new();

    /// <summary>a=ice-lite (RFC 8839 §5.3).</summary>
    public bool IceLite { get; set; }

    public string? IceUfrag { get; set; }

    public string? IcePwd { get; set; }

    public List<string> IceOptions { get; } = new();

    public List<SdpFingerprint> Fingerprints { get; } = new();

    public SdpSetupRole Setup { get; set; }

    /// <summary>A session-level direction attribute; applies to sections without their own (RFC 8866 §6.7).</summary>
    public SdpDirection Direction { get; set; }

    /// <summary>a=msid-semantic semantic token ("WMS"), or null when absent.</summary>
    public string? MsidSemantic { get; set; }

    public List<string> MsidSemanticStreamIds { get; } = new();

    /// <summary>a=extmap-allow-mixed (RFC 8285 §6).</summary>
    public bool ExtmapAllowMixed { get; set; }

    /// <summary>Unmodelled session-level a= lines, in their original order.</summary>
    public List<SdpAttribute> Attributes { get; } = new();

    /// <summary>Unmodelled i=, u=, e=, p=, b=, r=, z=, k= lines, kept in RFC 8866 §5 order.</summary>
    public List<SdpLine> OtherLines { get; } = new();

    public List<MediaDescription> Media { get; } = new();

    /// <summary>The first a=group:BUNDLE (RFC 8843), or null.</summary>
    public SdpGroup? BundleGroup
    {
        get
        {
            foreach (var g in Groups)
                if (g.Semantics == "BUNDLE") return g;
            return null;
        }
    }

    /// <summary>The mids of the BUNDLE group, empty when there is none.</summary>
    public IReadOnlyList<string> BundleMids => BundleGroup?.Mids ?? (IReadOnlyList<string>)Array.Empty<string>();

    public MediaDescription? FindMedia(string mid)
    {
        foreach (var m in Media)
            if (m.Mid == mid) return m;
        return null;
    }

    /// <summary>The ice-ufrag in force for a section: its own, else the session's (RFC 8839 §5.4).</summary>
    public string? IceUfragFor(MediaDescription media) => media.IceUfrag ?? IceUfrag;

    public string? IcePwdFor(MediaDescription media) => media.IcePwd ?? IcePwd;

    public SdpSetupRole SetupFor(MediaDescription media) => media.Setup != SdpSetupRole.None ? media.Setup : Setup;

    /// <summary>The direction in force for a section: its own, else the session's, else sendrecv (RFC 8866 §6.7).</summary>
    public SdpDirection DirectionFor(MediaDescription media) =>
        media.Direction != SdpDirection.None ? media.Direction : Direction != SdpDirection.None ? Direction : SdpDirection.SendRecv;

    public IReadOnlyList<SdpFingerprint> FingerprintsFor(MediaDescription media) => media.Fingerprints.Count > 0 ? media.Fingerprints : Fingerprints;

    /// <summary>Parses SDP text; CRLF or LF line ends, stray blanks tolerated. Never throws: on
    /// failure <paramref name="error"/> says which line and what is wrong.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out SessionDescription? sdp, out SdpError error)
        => SdpParser.TryParse(text, out sdp, out error);

    /// <summary>The SDP text, CRLF-terminated lines (RFC 8866 §5).</summary>
    public string Write() => SdpWriter.Write(this);

    public override string ToString() => Write();
}
