namespace Engine.Rtp.Sdp;

/// <summary>The a= value parsers, one per attribute the model knows.</summary>
internal sealed partial class SdpParser
{
    private bool Flag(string name, string? value, bool already, Action set)
    {
        if (value != null) return Fail($"a={name} takes no value");
        if (already) return Fail($"a={name} appears twice");
        set();
        return true;
    }

    // RFC 8839 §5.4: ice-ufrag is 4-256 ice-chars, ice-pwd 22-256.
    private bool CheckUfrag(string? v) =>
        (v != null && v.Length is >= 4 and <= 256 && SdpSyntax.IsIceChars(v)) || Fail("a=ice-ufrag must be 4-256 ice-chars (RFC 8839 §5.4)");

    private bool CheckPwd(string? v) =>
        (v != null && v.Length is >= 22 and <= 256 && SdpSyntax.IsIceChars(v)) || Fail("a=ice-pwd must be 22-256 ice-chars (RFC 8839 §5.4)");

    private bool ParseIceOptions(string? value, List<string> options)
    {
        if (options.Count > 0) return Fail("a=ice-options appears twice");
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length == 0) return Fail("a=ice-options needs at least one option");
        foreach (var o in w)
            if (!SdpSyntax.IsWord(o)) return Fail($"ice option '{o}' is not valid");
        options.AddRange(w);
        return true;
    }

    private bool ParseFingerprint(string? value, List<SdpFingerprint> list)
    {
        if (!SdpFingerprint.TryParse(value, out var fp, out string why)) return Fail(why);
        list.Add(fp);
        return true;
    }

    private bool ParseSetup(string? value, out SdpSetupRole role)
    {
        role = SdpSetupRole.None;
        return (value != null && SdpSyntax.TryParseSetup(value.Trim(), out role)) || Fail("a=setup must be active, passive, actpass or holdconn");
    }

    private bool ParseGroup(string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length == 0 || !SdpSyntax.IsToken(w[0])) return Fail("a=group needs a semantics token");
        var g = new SdpGroup(w[0]);
        for (int i = 1; i < w.Length; i++)
        {
            if (g.Mids.Contains(w[i])) return Fail($"mid '{w[i]}' is listed twice in the group");
            g.Mids.Add(w[i]);
        }
        _sdp.Groups.Add(g);
        return true;
    }

    // RFC 8285 §8: a=extmap:<value>["/"<direction>] <URI> <extensionattributes>
    private bool ParseExtmap(string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length < 2) return Fail("a=extmap needs '<id>[/<direction>] <uri>'");
        string idText = w[0];
        var dir = SdpDirection.None;
        int slash = idText.IndexOf('/');
        if (slash >= 0)
        {
            if (!SdpSyntax.TryParseDirection(idText[(slash + 1)..], out dir)) return Fail($"extmap direction in '{idText}' is not valid");
            idText = idText[..slash];
        }
        // 1-14 for one-byte headers, up to 255 for two-byte (RFC 8285 §4.2, §4.3).
        if (!SdpSyntax.TryParseInt(idText, 1, 255, out int id)) return Fail($"extmap id '{idText}' is not 1-255");
        foreach (var e in _media!.Extmaps)
            if (e.Id == id) return Fail($"extmap id {id} is used twice");
        string? attrs = w.Length > 2 ? string.Join(' ', w, 2, w.Length - 2) : null;
        _media.Extmaps.Add(new SdpExtmap(id, w[1], dir, attrs));
        return true;
    }

    private bool ParseMsid(string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length is 0 or > 2) return Fail("a=msid needs '<stream-id> [<track-id>]'");
        _media!.Msids.Add(new SdpMsid(w[0], w.Length == 2 ? w[1] : null));
        return true;
    }

    // RFC 5576 §4.1: a=ssrc:<ssrc-id> <attribute>[:<value>]
    private bool ParseSsrc(string? value)
    {
        var v = value ?? "";
        int sp = v.IndexOfAny(SdpSyntax.Blanks);
        if (sp < 0) return Fail("a=ssrc needs '<ssrc> <attribute>[:<value>]'");
        if (!SdpSyntax.TryParseUInt(v[..sp], out uint ssrc)) return Fail($"ssrc '{v[..sp]}' is not a 32-bit number");
        string rest = v[(sp + 1)..].TrimStart(SdpSyntax.Blanks);
        int colon = rest.IndexOf(':');
        string attr = colon < 0 ? rest : rest[..colon];
        string? attrValue = colon < 0 ? null : rest[(colon + 1)..];
        if (!SdpSyntax.IsToken(attr)) return Fail($"ssrc attribute '{attr}' is not a token");
        var m = _media!;
        var entry = m.FindSsrc(ssrc);
        if (entry == null)
        {
            entry = new SdpSsrc(ssrc);
            m.Ssrcs.Add(entry);
        }
        entry.Attributes.Add(new SdpParameter(attr, attrValue));
        return true;
    }

    // RFC 5576 §4.2: a=ssrc-group:<semantics> <ssrc-id> ...
    private bool ParseSsrcGroup(string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length < 2 || !SdpSyntax.IsToken(w[0])) return Fail("a=ssrc-group needs '<semantics> <ssrc> ...'");
        var g = new SdpSsrcGroup(w[0]);
        for (int i = 1; i < w.Length; i++)
        {
            if (!SdpSyntax.TryParseUInt(w[i], out uint ssrc)) return Fail($"ssrc '{w[i]}' is not a 32-bit number");
            g.Ssrcs.Add(ssrc);
        }
        _media!.SsrcGroups.Add(g);
        return true;
    }

    // RFC 8851 §10: a=rid:<rid-id> SP <send|recv> [SP [pt=<fmt-list>;]<param>=<value>;...]
    private bool ParseRid(string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length < 2) return Fail("a=rid needs '<rid-id> <send|recv> [<params>]'");
        if (!IsRidId(w[0])) return Fail($"rid-id '{w[0]}' must be letters, digits, '-' or '_' (RFC 8851 §10)");
        var dir = w[1] switch { "send" => SdpRidDirection.Send, "recv" => SdpRidDirection.Recv, _ => (SdpRidDirection)(-1) };
        if ((int)dir < 0) return Fail($"rid direction '{w[1]}' must be send or recv");
        foreach (var r in _media!.Rids)
            if (r.Id == w[0] && r.Direction == dir) return Fail($"rid '{w[0]}' appears twice");
        var rid = new SdpRid(w[0], dir);
        if (w.Length > 2)
        {
            bool first = true;
            // Blanks after ';' are tolerated: "pt=96; max-width=1280".
            foreach (var item in string.Concat(w.AsSpan(2)).Split(';'))
            {
                if (item.Length == 0) return Fail("empty rid parameter");
                int eq = item.IndexOf('=');
                string key = eq < 0 ? item : item[..eq];
                string? val = eq < 0 ? null : item[(eq + 1)..];
                if (key.Length == 0) return Fail("rid parameter has no name");
                if (key == "pt")
                {
                    if (!first || val is null) return Fail("rid pt= must come first and list payload types");
                    foreach (var ptText in val.Split(','))
                    {
                        if (!SdpSyntax.TryParseInt(ptText, 0, 127, out int pt)) return Fail($"rid payload type '{ptText}' is not 0-127");
                        rid.PayloadTypes.Add(pt);
                    }
                }
                else
                {
                    rid.Restrictions.Add(new SdpParameter(key, val));
                }
                first = false;
            }
        }
        _media.Rids.Add(rid);
        return true;
    }

    private static bool IsRidId(string s)
    {
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')) return false;
        return s.Length > 0;
    }

    // RFC 8853 §5.1: a=simulcast:send <list> [recv <list>] (either order), list = alt(;alt)*, alt = id(,id)*
    private bool ParseSimulcast(string? value)
    {
        var m = _media!;
        if (m.Simulcast != null) return Fail("a=simulcast appears twice");
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length is not (2 or 4)) return Fail("a=simulcast needs 'send <streams>' and/or 'recv <streams>'");
        var sc = new SdpSimulcast();
        for (int i = 0; i < w.Length; i += 2)
        {
            var target = w[i] switch { "send" => sc.Send, "recv" => sc.Recv, _ => null };
            if (target is null) return Fail($"simulcast direction '{w[i]}' must be send or recv");
            if (target.Count > 0) return Fail($"simulcast '{w[i]}' appears twice");
            foreach (var alt in w[i + 1].Split(';'))
            {
                var stream = new List<SdpSimulcastRid>();
                foreach (var id in alt.Split(','))
                {
                    bool paused = id.StartsWith('~');
                    string rid = paused ? id[1..] : id;
                    if (!IsRidId(rid)) return Fail($"simulcast rid '{id}' is not a valid rid-id");
                    stream.Add(new SdpSimulcastRid(rid, paused));
                }
                target.Add(stream);
            }
        }
        m.Simulcast = sc;
        return true;
    }

    // RFC 8866 §6.6: a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
    private bool ParseRtpmap(string name, string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length != 2) return Fail("a=rtpmap needs '<payload type> <name>/<clock rate>[/<channels>]'");
        if (!SdpSyntax.TryParseInt(w[0], 0, 127, out int pt)) return Fail($"payload type '{w[0]}' is not 0-127");
        var codec = _media!.FindCodec(pt);
        if (codec == null) return KeepUnlisted(name, value);
        if (codec.Name != null) return Fail($"a=rtpmap for payload type {pt} appears twice");
        var parts = w[1].Split('/');
        if (parts.Length is < 2 or > 3 || !SdpSyntax.IsToken(parts[0]))
            return Fail($"'{w[1]}' is not '<name>/<clock rate>[/<channels>]'");
        if (!SdpSyntax.TryParseInt(parts[1], 1, int.MaxValue, out int clock)) return Fail($"clock rate '{parts[1]}' is not a positive number");
        int? channels = null;
        if (parts.Length == 3)
        {
            if (!SdpSyntax.TryParseInt(parts[2], 1, 255, out int ch)) return Fail($"channel count '{parts[2]}' is not 1-255");
            channels = ch;
        }
        codec.Name = parts[0];
        codec.ClockRate = clock;
        codec.Channels = channels;
        return true;
    }

    // RFC 8866 §6.15: a=fmtp:<format> <format specific parameters>, here split at ';' into name[=value].
    private bool ParseFmtp(string name, string? value)
    {
        var v = value ?? "";
        int sp = v.IndexOfAny(SdpSyntax.Blanks);
        string ptText = sp < 0 ? v : v[..sp];
        if (!SdpSyntax.TryParseInt(ptText, 0, 127, out int pt)) return Fail($"payload type '{ptText}' is not 0-127");
        var codec = _media!.FindCodec(pt);
        if (codec == null) return KeepUnlisted(name, value);
        if (codec.Parameters.Count > 0 || _fmtpSeen.Contains(pt)) return Fail($"a=fmtp for payload type {pt} appears twice");
        _fmtpSeen.Add(pt);
        if (sp < 0) return true;
        foreach (var item in v[(sp + 1)..].Split(';'))
        {
            var p = item.Trim(SdpSyntax.Blanks);
            if (p.Length == 0) continue;
            int eq = p.IndexOf('=');
            codec.Parameters.Add(eq < 0
                ? new SdpParameter(p, null)
                : new SdpParameter(p[..eq].TrimEnd(SdpSyntax.Blanks), p[(eq + 1)..].TrimStart(SdpSyntax.Blanks)));
        }
        return true;
    }

    // RFC 4585 §4.2: a=rtcp-fb:<pt|*> <type> [<parameters>]
    private bool ParseRtcpFb(string name, string? value)
    {
        var w = SdpSyntax.Words(value ?? "");
        if (w.Length < 2) return Fail("a=rtcp-fb needs '<payload type|*> <type> [<parameter>]'");
        var fb = new SdpRtcpFeedback(w[1], w.Length > 2 ? string.Join(' ', w, 2, w.Length - 2) : null);
        if (w[0] == "*")
        {
            _media!.WildcardFeedback.Add(fb);
            return true;
        }
        if (!SdpSyntax.TryParseInt(w[0], 0, 127, out int pt)) return Fail($"payload type '{w[0]}' is not 0-127 or '*'");
        var codec = _media!.FindCodec(pt);
        if (codec == null) return KeepUnlisted(name, value);
        codec.Feedback.Add(fb);
        return true;
    }

    // A payload type the m= line does not list: keep the line rather than reject a peer's SDP.
    private bool KeepUnlisted(string name, string? value)
    {
        _media!.Attributes.Add(new SdpAttribute(name, value));
        return true;
    }
}
