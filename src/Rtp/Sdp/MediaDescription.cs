namespace Engine.Rtp.Sdp;

/// <summary>One m= section (RFC 8866 §5.14) with the WebRTC attributes modelled and every other
/// a= line kept in <see cref="Attributes"/>.</summary>
public sealed class MediaDescription
{
    public MediaDescription(string media, int port, string protocol)
    {
        Media = media;
        Port = port;
        Protocol = protocol;
    }

    /// <summary>"audio", "video", "application", ...</summary>
    public string Media { get; set; }

    /// <summary>0 marks a rejected or bundled-only section (RFC 8843); browsers send 9.</summary>
    public int Port { get; set; }

    /// <summary>The optional "/number of ports" of the m= line.</summary>
    public int? PortCount { get; set; }

    /// <summary>"UDP/TLS/RTP/SAVPF" for WebRTC media, "UDP/DTLS/SCTP" for data channels.</summary>
    public string Protocol { get; set; }

    /// <summary>True when the protocol carries RTP, so the m= formats are payload types (RFC 8866 §5.14).</summary>
    public bool IsRtp => Protocol.Contains("RTP/", StringComparison.OrdinalIgnoreCase);

    /// <summary>The m= line's formats for a non-RTP protocol (e.g. "webrtc-datachannel"). For RTP
    /// the formats are the payload types of <see cref="Codecs"/> and this list is not written.</summary>
    public List<string> Formats { get; } = new();

    /// <summary>One entry per payload type of the m= line, in its order (the order of preference).</summary>
    public List<RtpCodec> Codecs { get; } = new();

    /// <summary>a=rtcp-fb:* lines, which apply to every payload type (RFC 4585 §4.2).</summary>
    public List<SdpRtcpFeedback> WildcardFeedback { get; } = new();

    public SdpConnection? Connection { get; set; }

    /// <summary>The a=rtcp value (RFC 3605), e.g. "9 IN IP4 0.0.0.0", kept as written.</summary>
    public string? Rtcp { get; set; }

    public string? Mid { get; set; }

    public SdpDirection Direction { get; set; }

    public bool RtcpMux { get; set; }

    public bool RtcpReducedSize { get; set; }

    /// <summary>a=rtcp-mux-only (RFC 8858).</summary>
    public bool RtcpMuxOnly { get; set; }

    /// <summary>a=bundle-only (RFC 8843 §6): port 0 in an offer, yet part of its BUNDLE group.</summary>
    public bool BundleOnly { get; set; }

    public bool ExtmapAllowMixed { get; set; }

    public string? IceUfrag { get; set; }

    public string? IcePwd { get; set; }

    public List<string> IceOptions { get; } = new();

    public List<SdpFingerprint> Fingerprints { get; } = new();

    public SdpSetupRole Setup { get; set; }

    public List<IceCandidate> Candidates { get; } = new();

    /// <summary>a=end-of-candidates (RFC 8840).</summary>
    public bool EndOfCandidates { get; set; }

    public List<SdpExtmap> Extmaps { get; } = new();

    public List<SdpMsid> Msids { get; } = new();

    public List<SdpSsrc> Ssrcs { get; } = new();

    public List<SdpSsrcGroup> SsrcGroups { get; } = new();

    public List<SdpRid> Rids { get; } = new();

    public SdpSimulcast? Simulcast { get; set; }

    /// <summary>Unmodelled a= lines of this section, in their original order.</summary>
    public List<SdpAttribute> Attributes { get; } = new();

    /// <summary>Unmodelled i=, b=, k= lines, kept in RFC 8866 §5 order.</summary>
    public List<SdpLine> OtherLines { get; } = new();

    public RtpCodec? FindCodec(int payloadType)
    {
        foreach (var c in Codecs)
            if (c.PayloadType == payloadType) return c;
        return null;
    }

    /// <summary>The fmtp parameters of a payload type, or null when there is no such payload type.</summary>
    public IReadOnlyList<SdpParameter>? GetFmtp(int payloadType) => FindCodec(payloadType)?.Parameters;

    /// <summary>The rtx payload type whose apt= names <paramref name="primaryPayloadType"/> (RFC 4588 §8.1), or null.</summary>
    public int? FindRtxPayloadType(int primaryPayloadType)
    {
        foreach (var c in Codecs)
            if (c.IsNamed("rtx") && c.AssociatedPayloadType == primaryPayloadType) return c.PayloadType;
        return null;
    }

    public SdpExtmap? FindExtmap(string uri)
    {
        foreach (var e in Extmaps)
            if (e.Uri == uri) return e;
        return null;
    }

    public SdpSsrc? FindSsrc(uint ssrc)
    {
        foreach (var s in Ssrcs)
            if (s.Ssrc == ssrc) return s;
        return null;
    }

    public SdpSsrcGroup? FindSsrcGroup(string semantics)
    {
        foreach (var g in SsrcGroups)
            if (g.Semantics == semantics) return g;
        return null;
    }

    public SdpAttribute? FindAttribute(string name)
    {
        foreach (var a in Attributes)
            if (a.Name == name) return a;
        return null;
    }
}
