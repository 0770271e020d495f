using System.Text;

namespace Engine.Rtp.Sdp;

/// <summary>Writes a <see cref="SessionDescription"/> as CRLF-terminated SDP (RFC 8866 §5), in
/// the line order Chromium uses, so a browser's own SDP comes back line for line.</summary>
internal static class SdpWriter
{
    public static string Write(SessionDescription sdp)
    {
        var b = new StringBuilder(4096);
        Line(b, "v=0");
        Line(b, sdp.Origin.ToString());
        Line(b, "s=" + sdp.SessionName);
        // RFC 8866 §5: v o s i u e p c b t r z k a
        Others(b, sdp.OtherLines, "iuep");
        if (sdp.Connection != null) Line(b, sdp.Connection.ToString());
        Others(b, sdp.OtherLines, "b");
        Line(b, "t=" + sdp.StartTime + " " + sdp.StopTime);
        Others(b, sdp.OtherLines, "rzk");

        foreach (var g in sdp.Groups) Line(b, "a=group:" + g);
        if (sdp.ExtmapAllowMixed) Line(b, "a=extmap-allow-mixed");
        if (sdp.MsidSemantic != null)
        {
            // Chromium writes a blank after the colon; parsers (ours included) trim it.
            b.Append("a=msid-semantic: ").Append(sdp.MsidSemantic);
            foreach (var id in sdp.MsidSemanticStreamIds) b.Append(' ').Append(id);
            b.Append("\r\n");
        }
        if (sdp.IceLite) Line(b, "a=ice-lite");
        Ice(b, sdp.IceUfrag, sdp.IcePwd, sdp.IceOptions);
        foreach (var f in sdp.Fingerprints) Line(b, "a=fingerprint:" + f);
        if (sdp.Setup != SdpSetupRole.None) Line(b, "a=setup:" + SdpSyntax.Format(sdp.Setup));
        if (sdp.Direction != SdpDirection.None) Line(b, "a=" + SdpSyntax.Format(sdp.Direction));
        foreach (var a in sdp.Attributes) Line(b, a.ToString());

        foreach (var m in sdp.Media) WriteMedia(b, m);
        return b.ToString();
    }

    private static void WriteMedia(StringBuilder b, MediaDescription m)
    {
        b.Append("m=").Append(m.Media).Append(' ').Append(SdpSyntax.Format(m.Port));
        if (m.PortCount is int n) b.Append('/').Append(SdpSyntax.Format(n));
        b.Append(' ').Append(m.Protocol);
        if (m.IsRtp)
            foreach (var c in m.Codecs) b.Append(' ').Append(SdpSyntax.Format(c.PayloadType));
        else
            foreach (var f in m.Formats) b.Append(' ').Append(f);
        b.Append("\r\n");
        // RFC 8866 §5: m i c b k a
        Others(b, m.OtherLines, "i");
        if (m.Connection != null) Line(b, m.Connection.ToString());
        Others(b, m.OtherLines, "bk");

        if (m.Rtcp != null) Line(b, "a=rtcp:" + m.Rtcp);
        foreach (var c in m.Candidates) Line(b, "a=" + c);
        if (m.EndOfCandidates) Line(b, "a=end-of-candidates");
        Ice(b, m.IceUfrag, m.IcePwd, m.IceOptions);
        foreach (var f in m.Fingerprints) Line(b, "a=fingerprint:" + f);
        if (m.Setup != SdpSetupRole.None) Line(b, "a=setup:" + SdpSyntax.Format(m.Setup));
        if (m.Mid != null) Line(b, "a=mid:" + m.Mid);
        if (m.ExtmapAllowMixed) Line(b, "a=extmap-allow-mixed");
        foreach (var e in m.Extmaps)
        {
            b.Append("a=extmap:").Append(SdpSyntax.Format(e.Id));
            if (e.Direction != SdpDirection.None) b.Append('/').Append(SdpSyntax.Format(e.Direction));
            b.Append(' ').Append(e.Uri);
            if (e.Attributes != null) b.Append(' ').Append(e.Attributes);
            b.Append("\r\n");
        }
        if (m.Direction != SdpDirection.None) Line(b, "a=" + SdpSyntax.Format(m.Direction));
        foreach (var msid in m.Msids) Line(b, "a=msid:" + msid);
        if (m.RtcpMux) Line(b, "a=rtcp-mux");
        if (m.RtcpMuxOnly) Line(b, "a=rtcp-mux-only");
        if (m.BundleOnly) Line(b, "a=bundle-only");
        if (m.RtcpReducedSize) Line(b, "a=rtcp-rsize");
        foreach (var a in m.Attributes) Line(b, a.ToString());

        foreach (var fb in m.WildcardFeedback) Line(b, "a=rtcp-fb:* " + fb);
        if (m.IsRtp)
            foreach (var c in m.Codecs) WriteCodec(b, c);
        foreach (var r in m.Rids) WriteRid(b, r);
        if (m.Simulcast != null) WriteSimulcast(b, m.Simulcast);
        foreach (var g in m.SsrcGroups)
        {
            b.Append("a=ssrc-group:").Append(g.Semantics);
            foreach (var s in g.Ssrcs) b.Append(' ').Append(SdpSyntax.Format(s));
            b.Append("\r\n");
        }
        foreach (var s in m.Ssrcs)
            foreach (var a in s.Attributes)
            {
                b.Append("a=ssrc:").Append(SdpSyntax.Format(s.Ssrc)).Append(' ').Append(a.Name);
                if (a.Value != null) b.Append(':').Append(a.Value);
                b.Append("\r\n");
            }
    }

    private static void WriteCodec(StringBuilder b, RtpCodec c)
    {
        string pt = SdpSyntax.Format(c.PayloadType);
        if (c.Name != null)
        {
            b.Append("a=rtpmap:").Append(pt).Append(' ').Append(c.Name).Append('/').Append(SdpSyntax.Format(c.ClockRate));
            if (c.Channels is int ch) b.Append('/').Append(SdpSyntax.Format(ch));
            b.Append("\r\n");
        }
        foreach (var fb in c.Feedback) b.Append("a=rtcp-fb:").Append(pt).Append(' ').Append(fb.ToString()).Append("\r\n");
        if (c.Parameters.Count > 0)
        {
            b.Append("a=fmtp:").Append(pt).Append(' ');
            for (int i = 0; i < c.Parameters.Count; i++)
            {
                if (i > 0) b.Append(';');
                Parameter(b, c.Parameters[i]);
            }
            b.Append("\r\n");
        }
    }

    private static void WriteRid(StringBuilder b, SdpRid r)
    {
        b.Append("a=rid:").Append(r.Id).Append(r.Direction == SdpRidDirection.Send ? " send" : " recv");
        char sep = ' ';
        if (r.PayloadTypes.Count > 0)
        {
            b.Append(" pt=");
            for (int i = 0; i < r.PayloadTypes.Count; i++)
            {
                if (i > 0) b.Append(',');
                b.Append(SdpSyntax.Format(r.PayloadTypes[i]));
            }
            sep = ';';
        }
        foreach (var p in r.Restrictions)
        {
            b.Append(sep);
            Parameter(b, p);
            sep = ';';
        }
        b.Append("\r\n");
    }

    private static void WriteSimulcast(StringBuilder b, SdpSimulcast sc)
    {
        b.Append("a=simulcast:");
        bool any = false;
        if (sc.Send.Count > 0) { b.Append("send "); Streams(b, sc.Send); any = true; }
        if (sc.Recv.Count > 0)
        {
            if (any) b.Append(' ');
            b.Append("recv ");
            Streams(b, sc.Recv);
        }
        b.Append("\r\n");
    }

    private static void Streams(StringBuilder b, List<List<SdpSimulcastRid>> streams)
    {
        for (int i = 0; i < streams.Count; i++)
        {
            if (i > 0) b.Append(';');
            for (int j = 0; j < streams[i].Count; j++)
            {
                if (j > 0) b.Append(',');
                b.Append(streams[i][j].ToString());
            }
        }
    }

    private static void Ice(StringBuilder b, string? ufrag, string? pwd, List<string> options)
    {
        if (ufrag != null) Line(b, "a=ice-ufrag:" + ufrag);
        if (pwd != null) Line(b, "a=ice-pwd:" + pwd);
        if (options.Count > 0) Line(b, "a=ice-options:" + string.Join(' ', options));
    }

    private static void Parameter(StringBuilder b, SdpParameter p)
    {
        b.Append(p.Name);
        if (p.Value != null) b.Append('=').Append(p.Value);
    }

    private static void Others(StringBuilder b, List<SdpLine> lines, string types)
    {
        foreach (var l in lines)
            if (types.Contains(l.Type)) Line(b, l.ToString());
    }

    private static void Line(StringBuilder b, string line) => b.Append(line).Append("\r\n");
}
