using System.Globalization;
using System.Text;
using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>
/// The SDP (RFC 8866) of plain RTP/AVP sent to local ports, one m-line per track in track order:
/// what <c>ffmpeg -protocol_whitelist file,udp,rtp -i file.sdp</c> reads to receive the legacy
/// RTP2RTMPSHELL forward.
/// </summary>
public static class PlainRtpSdp
{
    /// <param name="sessionName">Goes on the s= line; only [A-Za-z0-9_.-] is kept.</param>
    /// <param name="ports">The RTP port of each track (RTCP is port+1), same order as <paramref name="tracks"/>.</param>
    public static string Build(string sessionName, IReadOnlyList<TrackInfo> tracks, IReadOnlyList<int> ports)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        ArgumentNullException.ThrowIfNull(ports);
        if (tracks.Count != ports.Count)
            throw new ArgumentException("one port per track", nameof(ports));
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(256 + 128 * tracks.Count);
        // Senders end lines with CRLF (RFC 8866 section 5); ffmpeg accepts it.
        sb.Append("v=0\r\n");
        sb.Append("o=- 0 0 IN IP4 127.0.0.1\r\n");
        string name = SafeName(sessionName);
        sb.Append("s=").Append(name.Length > 0 ? name : "-").Append("\r\n");
        sb.Append("c=IN IP4 127.0.0.1\r\n");
        sb.Append("t=0 0\r\n");
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            int pt = t.PayloadType;
            sb.Append(t.IsVideo ? "m=video " : "m=audio ").Append(ports[i].ToString(inv)).Append(" RTP/AVP ").Append(pt.ToString(inv)).Append("\r\n");
            sb.Append("c=IN IP4 127.0.0.1\r\n");
            sb.Append("a=rtpmap:").Append(pt.ToString(inv)).Append(' ').Append(RtpMap(t)).Append("\r\n");
            // Negotiated text from the peer's SDP: a stray CR/LF must not start a line of its own.
            string fmtp = OneLine(t.FormatParameters);
            if (fmtp.Length > 0)
                sb.Append("a=fmtp:").Append(pt.ToString(inv)).Append(' ').Append(fmtp).Append("\r\n");
            sb.Append("a=recvonly\r\n");
        }
        return sb.ToString();
    }

    /// <summary>The encoding name/clock rate[/channels] of an a=rtpmap line.</summary>
    public static string RtpMap(TrackInfo track)
    {
        int clock = track.ClockRate > 0 ? track.ClockRate : 90000;
        return track.Codec switch
        {
            MediaCodec.H264 => $"H264/{clock.ToString(CultureInfo.InvariantCulture)}",
            MediaCodec.Vp8 => $"VP8/{clock.ToString(CultureInfo.InvariantCulture)}",
            MediaCodec.Vp9 => $"VP9/{clock.ToString(CultureInfo.InvariantCulture)}",
            // RFC 7587: always opus/48000/2, whatever the stream carries.
            _ => "opus/48000/2",
        };
    }

    /// <summary>
    /// A name that is safe as one path component and in a shell: [A-Za-z0-9_.-] kept, anything
    /// else '_', no leading '.', at most 100 characters; "" becomes "_".
    /// </summary>
    public static string SafeName(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return "_";
        int length = Math.Min(name.Length, 100);
        var chars = new char[length];
        bool leading = true;
        for (int i = 0; i < length; i++)
        {
            char c = name[i];
            bool ok = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.';
            if (!ok || (leading && c == '.'))
                c = '_';
            else
                leading = false;
            chars[i] = c;
        }
        return new string(chars);
    }

    private static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (!char.IsControl(c))
                sb.Append(c);
        }
        return sb.ToString().Trim();
    }
}
