using System.Diagnostics.CodeAnalysis;

namespace Engine.Rtp.Sdp;

/// <summary>Line-by-line SDP reader (RFC 8866 §5). One instance per parse; every failure is a
/// returned <see cref="SdpError"/>, never an exception.</summary>
internal sealed partial class SdpParser
{
    // RFC 8866 §5: the order of the non-attribute lines, session level and media level.
    private const string SessionOrder = "iuepcbtrzk";
    private const string MediaOrder = "icbk";
    private const int MaxQuotedLine = 80;

    private readonly SessionDescription _sdp = new();
    private MediaDescription? _media;
    private int _lineNo;
    private string _line = "";
    private SdpError _error;
    // Payload types of the current m= section that already had an a=fmtp line.
    private readonly HashSet<int> _fmtpSeen = new();

    public static bool TryParse(string? text, [NotNullWhen(true)] out SessionDescription? sdp, out SdpError error)
    {
        sdp = null;
        if (text is null) { error = new SdpError(0, "input is null"); return false; }
        if (text.Length > SessionDescription.MaxLength)
        {
            error = new SdpError(0, $"input is {text.Length} characters, over the {SessionDescription.MaxLength} limit");
            return false;
        }
        var p = new SdpParser();
        if (!p.Run(text)) { error = p._error; return false; }
        sdp = p._sdp;
        error = SdpError.None;
        return true;
    }

    private bool Run(string text)
    {
        bool sawV = false, sawO = false, sawS = false, sawT = false;
        // A UTF-8 byte order mark decoded into the string is not part of the first line.
        int pos = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        while (pos < text.Length)
        {
            int nl = text.IndexOf('\n', pos);
            int end = nl < 0 ? text.Length : nl;
            int start = pos;
            pos = nl < 0 ? text.Length : nl + 1;
            _lineNo++;
            if (_lineNo > SessionDescription.MaxLines)
                return Fail($"more than {SessionDescription.MaxLines} lines");
            if (end - start > SessionDescription.MaxLineLength)
            {
                _line = text.Substring(start, MaxQuotedLine);
                return Fail($"line is longer than {SessionDescription.MaxLineLength} characters");
            }
            // Tolerate CRLF or LF and stray blanks around a line; skip blank lines.
            _line = text.AsSpan(start, end - start).Trim(" \t\r").ToString();
            if (_line.Length == 0) continue;
            foreach (char c in _line)
                if ((c < ' ' && c != '\t') || c == '\x7f')
                    return Fail($"control character 0x{(int)c:x2} inside the line");
            if (_line.Length < 2 || _line[1] != '=' || _line[0] < 'a' || _line[0] > 'z')
                return Fail("expected '<type>=<value>'");

            char type = _line[0];
            string value = _line[2..];
            if (!sawV)
            {
                if (type != 'v') return Fail("the first line must be v=0");
                if (value != "0") return Fail($"unsupported SDP version '{value}'");
                sawV = true;
                continue;
            }
            if (type == 'm')
            {
                if (!sawO) return Fail("o= must come before the first m= line");
                if (!sawS) return Fail("s= must come before the first m= line");
                if (!ParseMediaLine(value)) return false;
                continue;
            }
            if (_media != null)
            {
                bool ok = type switch
                {
                    'a' => ParseMediaAttribute(value),
                    'c' => ParseConnection(value, isMedia: true),
                    'i' or 'b' or 'k' => AddOtherLine(_media.OtherLines, MediaOrder, type, value),
                    _ => Fail($"'{type}=' is not allowed in a media section"),
                };
                if (!ok) return false;
                continue;
            }
            switch (type)
            {
                case 'v':
                    return Fail("v= appears twice");
                case 'o':
                    if (sawO) return Fail("o= appears twice");
                    if (!ParseOrigin(value)) return false;
                    sawO = true;
                    break;
                case 's':
                    if (sawS) return Fail("s= appears twice");
                    // RFC 8866 §5.3: s= must not be empty; "s=-" or "s= " are the usual placeholders.
                    _sdp.SessionName = value.Length == 0 ? "-" : value;
                    sawS = true;
                    break;
                case 't':
                    if (sawT) return Fail("only one t= line is supported");
                    if (!ParseTiming(value)) return false;
                    sawT = true;
                    break;
                case 'c':
                    if (!ParseConnection(value, isMedia: false)) return false;
                    break;
                case 'a':
                    if (!ParseSessionAttribute(value)) return false;
                    break;
                case 'i' or 'u' or 'e' or 'p' or 'b' or 'r' or 'z' or 'k':
                    if (!AddOtherLine(_sdp.OtherLines, SessionOrder, type, value)) return false;
                    break;
                default:
                    // RFC 8866 §5: a description with an unknown type letter must be ignored whole.
                    return Fail($"unknown line type '{type}='");
            }
        }
        _lineNo = 0;
        _line = "";
        if (!sawV) return Fail("input is empty (no v= line)");
        if (!sawO) return Fail("missing o= line");
        if (!sawS) return Fail("missing s= line");
        return true;
    }

    private bool Fail(string reason)
    {
        string? quoted = null;
        if (_lineNo > 0)
        {
            // Quoted for a log line: cut short, control characters made visible as '?'.
            var chars = (_line.Length > MaxQuotedLine ? _line[..MaxQuotedLine] + "..." : _line).ToCharArray();
            for (int i = 0; i < chars.Length; i++)
                if (chars[i] < ' ' || chars[i] == '\x7f') chars[i] = '?';
            quoted = new string(chars);
        }
        _error = new SdpError(_lineNo, reason, quoted);
        return false;
    }

    private bool AddOtherLine(List<SdpLine> lines, string order, char type, string value)
    {
        int rank = order.IndexOf(type);
        int at = lines.Count;
        while (at > 0 && order.IndexOf(lines[at - 1].Type) > rank) at--;
        lines.Insert(at, new SdpLine(type, value));
        return true;
    }

    private bool ParseOrigin(string value)
    {
        var w = SdpSyntax.Words(value);
        if (w.Length != 6) return Fail("o= needs '<username> <sess-id> <sess-version> <nettype> <addrtype> <address>'");
        _sdp.Origin = new SdpOrigin(w[0], w[1], w[2], w[3], w[4], w[5]);
        return true;
    }

    private bool ParseTiming(string value)
    {
        var w = SdpSyntax.Words(value);
        if (w.Length != 2 || !ulong.TryParse(w[0], System.Globalization.NumberStyles.None, null, out ulong start)
            || !ulong.TryParse(w[1], System.Globalization.NumberStyles.None, null, out ulong stop))
            return Fail("t= needs '<start-time> <stop-time>' as numbers");
        _sdp.StartTime = start;
        _sdp.StopTime = stop;
        return true;
    }

    private bool ParseConnection(string value, bool isMedia)
    {
        var w = SdpSyntax.Words(value);
        if (w.Length != 3) return Fail("c= needs '<nettype> <addrtype> <connection-address>'");
        var c = new SdpConnection(w[0], w[1], w[2]);
        if (isMedia)
        {
            if (_media!.Connection != null) return Fail("c= appears twice in the media section");
            _media.Connection = c;
        }
        else
        {
            if (_sdp.Connection != null) return Fail("c= appears twice at session level");
            _sdp.Connection = c;
        }
        return true;
    }

    private bool ParseMediaLine(string value)
    {
        if (_sdp.Media.Count >= SessionDescription.MaxMediaDescriptions)
            return Fail($"more than {SessionDescription.MaxMediaDescriptions} m= sections");
        var w = SdpSyntax.Words(value);
        if (w.Length < 3) return Fail("m= needs '<media> <port> <proto> <fmt> ...'");
        if (!SdpSyntax.IsToken(w[0])) return Fail($"media '{w[0]}' is not a token");
        string portText = w[1];
        int? count = null;
        int slash = portText.IndexOf('/');
        if (slash >= 0)
        {
            if (!SdpSyntax.TryParseInt(portText[(slash + 1)..], 1, 65535, out int n)) return Fail($"port count in '{portText}' is not 1-65535");
            count = n;
            portText = portText[..slash];
        }
        if (!SdpSyntax.TryParseInt(portText, 0, 65535, out int port)) return Fail($"port '{portText}' is not 0-65535");
        if (!SdpSyntax.IsWord(w[2])) return Fail($"protocol '{w[2]}' is not valid");
        var m = new MediaDescription(w[0], port, w[2]) { PortCount = count };
        for (int i = 3; i < w.Length; i++)
        {
            if (m.IsRtp)
            {
                // RFC 8866 §5.14: for RTP the formats are payload types; RTP carries 7 bits.
                if (!SdpSyntax.TryParseInt(w[i], 0, 127, out int pt)) return Fail($"payload type '{w[i]}' is not 0-127");
                if (m.FindCodec(pt) != null) return Fail($"payload type {pt} is listed twice");
                m.Codecs.Add(new RtpCodec(pt));
            }
            else
            {
                m.Formats.Add(w[i]);
            }
        }
        _sdp.Media.Add(m);
        _media = m;
        _fmtpSeen.Clear();
        return true;
    }

    private static void SplitAttribute(string value, out string name, out string? attrValue)
    {
        int colon = value.IndexOf(':');
        if (colon < 0) { name = value; attrValue = null; }
        else { name = value[..colon]; attrValue = value[(colon + 1)..]; }
    }

    private bool CheckName(string name) =>
        SdpSyntax.IsToken(name) || Fail(name.Length == 0 ? "attribute has no name" : $"attribute name '{name}' is not a token");

    private bool ParseSessionAttribute(string line)
    {
        SplitAttribute(line, out string name, out string? value);
        if (!CheckName(name)) return false;
        switch (name)
        {
            case "group": return ParseGroup(value);
            case "ice-lite": return Flag(name, value, _sdp.IceLite, () => _sdp.IceLite = true);
            case "sendrecv" or "sendonly" or "recvonly" or "inactive":
                if (value != null) return Fail($"a={name} takes no value");
                if (_sdp.Direction != SdpDirection.None) return Fail("more than one direction attribute");
                SdpSyntax.TryParseDirection(name, out var sessionDirection);
                _sdp.Direction = sessionDirection;
                return true;
            case "extmap-allow-mixed": return Flag(name, value, _sdp.ExtmapAllowMixed, () => _sdp.ExtmapAllowMixed = true);
            case "ice-ufrag":
                if (_sdp.IceUfrag != null) return Fail("a=ice-ufrag appears twice");
                if (!CheckUfrag(value)) return false;
                _sdp.IceUfrag = value;
                return true;
            case "ice-pwd":
                if (_sdp.IcePwd != null) return Fail("a=ice-pwd appears twice");
                if (!CheckPwd(value)) return false;
                _sdp.IcePwd = value;
                return true;
            case "ice-options": return ParseIceOptions(value, _sdp.IceOptions);
            case "fingerprint": return ParseFingerprint(value, _sdp.Fingerprints);
            case "setup":
                if (_sdp.Setup != SdpSetupRole.None) return Fail("a=setup appears twice");
                if (!ParseSetup(value, out var role)) return false;
                _sdp.Setup = role;
                return true;
            case "msid-semantic":
                if (_sdp.MsidSemantic != null) return Fail("a=msid-semantic appears twice");
                var w = SdpSyntax.Words(value ?? "");
                if (w.Length == 0 || !SdpSyntax.IsToken(w[0])) return Fail("a=msid-semantic needs a semantic token");
                _sdp.MsidSemantic = w[0];
                _sdp.MsidSemanticStreamIds.AddRange(w.AsSpan(1));
                return true;
            default:
                _sdp.Attributes.Add(new SdpAttribute(name, value));
                return true;
        }
    }

    private bool ParseMediaAttribute(string line)
    {
        var m = _media!;
        SplitAttribute(line, out string name, out string? value);
        if (!CheckName(name)) return false;
        switch (name)
        {
            case "mid":
                if (m.Mid != null) return Fail("a=mid appears twice");
                if (!SdpSyntax.IsWord(value)) return Fail("a=mid needs an identification-tag");
                m.Mid = value;
                return true;
            case "sendrecv" or "sendonly" or "recvonly" or "inactive":
                if (value != null) return Fail($"a={name} takes no value");
                if (m.Direction != SdpDirection.None) return Fail("more than one direction attribute");
                SdpSyntax.TryParseDirection(name, out var dir);
                m.Direction = dir;
                return true;
            case "rtcp-mux": return Flag(name, value, m.RtcpMux, () => m.RtcpMux = true);
            case "rtcp-rsize": return Flag(name, value, m.RtcpReducedSize, () => m.RtcpReducedSize = true);
            case "rtcp-mux-only": return Flag(name, value, m.RtcpMuxOnly, () => m.RtcpMuxOnly = true);
            case "bundle-only": return Flag(name, value, m.BundleOnly, () => m.BundleOnly = true);
            case "extmap-allow-mixed": return Flag(name, value, m.ExtmapAllowMixed, () => m.ExtmapAllowMixed = true);
            case "end-of-candidates": return Flag(name, value, m.EndOfCandidates, () => m.EndOfCandidates = true);
            case "rtcp":
                if (m.Rtcp != null) return Fail("a=rtcp appears twice");
                var rw = SdpSyntax.Words(value ?? "");
                if (rw.Length == 0 || !SdpSyntax.TryParseInt(rw[0], 0, 65535, out _)) return Fail("a=rtcp needs a port 0-65535");
                m.Rtcp = string.Join(' ', rw);
                return true;
            case "ice-ufrag":
                if (m.IceUfrag != null) return Fail("a=ice-ufrag appears twice");
                if (!CheckUfrag(value)) return false;
                m.IceUfrag = value;
                return true;
            case "ice-pwd":
                if (m.IcePwd != null) return Fail("a=ice-pwd appears twice");
                if (!CheckPwd(value)) return false;
                m.IcePwd = value;
                return true;
            case "ice-options": return ParseIceOptions(value, m.IceOptions);
            case "fingerprint": return ParseFingerprint(value, m.Fingerprints);
            case "setup":
                if (m.Setup != SdpSetupRole.None) return Fail("a=setup appears twice");
                if (!ParseSetup(value, out var role)) return false;
                m.Setup = role;
                return true;
            case "candidate":
                if (!IceCandidate.TryParse(value, out var cand, out string why)) return Fail(why);
                m.Candidates.Add(cand);
                return true;
            case "extmap": return ParseExtmap(value);
            case "msid": return ParseMsid(value);
            case "ssrc": return ParseSsrc(value);
            case "ssrc-group": return ParseSsrcGroup(value);
            case "rid": return ParseRid(value);
            case "simulcast": return ParseSimulcast(value);
            case "rtpmap" when m.IsRtp: return ParseRtpmap(name, value);
            case "fmtp" when m.IsRtp: return ParseFmtp(name, value);
            case "rtcp-fb" when m.IsRtp: return ParseRtcpFb(name, value);
            default:
                m.Attributes.Add(new SdpAttribute(name, value));
                return true;
        }
    }
}
