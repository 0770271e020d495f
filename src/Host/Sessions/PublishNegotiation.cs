using System.Globalization;
using Engine.Rtp.Sdp;

namespace Engine.Host.Sessions;

/// <summary>
/// Answers a browser's publish offer as an ICE-lite, BUNDLE-only, rtcp-mux-only receiver: picks
/// H264 (packetization-mode 1, Constrained Baseline first), else VP8, else VP9 for video (with its
/// RTX when offered) and Opus for audio, keeps the offer's extmap ids for mid, abs-send-time and transport-wide-cc, and says
/// clearly why an offer it cannot serve is refused.
/// </summary>
public static class PublishNegotiation
{
    public const string MidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string AbsSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportCcUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

    private static readonly string[] KeptExtensions = { MidUri, AbsSendTimeUri, TransportCcUri };
    private static readonly string[] KeptVideoFeedback = { "nack", "ccm", "goog-remb", "transport-cc" };
    private static readonly string[] KeptAudioFeedback = { "transport-cc" };

    /// <summary>Our side of the answer.</summary>
    public sealed record LocalParameters(string IceUfrag, string IcePwd, SdpFingerprint Fingerprint, string CandidateAddress, int CandidatePort, ulong SessionId);

    public sealed record Result(SessionDescription Answer, IReadOnlyList<NegotiatedTrack> Tracks, string RemoteUfrag, string RemotePwd,
        IReadOnlyList<SdpFingerprint> RemoteFingerprints, bool WeAreDtlsClient, IReadOnlyDictionary<string, int> ExtensionIds);

    public static bool TryAnswer(SessionDescription offer, LocalParameters local, out Result? result, out string reason)
    {
        result = null;
        reason = "";
        if (!PublishNegotiation.TryReadBundleTransport(offer, out var bundle, out string ufrag, out string pwd, out var fingerprints, out var setup, out reason))
            return false;
        if (setup == SdpSetupRole.HoldConn)
        {
            reason = "a=setup:holdconn is not served";
            return false;
        }
        bool weAreClient = setup == SdpSetupRole.Passive;

        var answer = new SessionDescription
        {
            Origin = new SdpOrigin("-", local.SessionId.ToString(CultureInfo.InvariantCulture), "2", "IN", IpVersion(local.CandidateAddress), local.CandidateAddress),
            SessionName = "-",
            IceLite = true,
        };
        var tracks = new List<NegotiatedTrack>();
        var extensionIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var accepted = new List<string>();
        var refusals = new List<string>();
        bool videoTaken = false, audioTaken = false;
        foreach (var m in offer.Media)
        {
            var a = new MediaDescription(m.Media, 0, m.Protocol) { Mid = m.Mid };
            a.Formats.AddRange(m.Formats.Take(1));
            answer.Media.Add(a);
            string label = $"m-line {m.Mid ?? "?"} ({m.Media})";
            // Port 0 rejects an m-line, unless it is bundle-only in the BUNDLE group (Firefox's video, RFC 8843 §6).
            if (m.Port == 0 && !(m.BundleOnly && m.Mid != null && bundle.Contains(m.Mid)))
                continue;
            if (m.Mid == null || !bundle.Contains(m.Mid))
            {
                refusals.Add(label + " is not bundled");
                continue;
            }
            if (!m.RtcpMux)
            {
                reason = $"{label} has no a=rtcp-mux; only rtcp-mux is served";
                return false;
            }
            var direction = offer.DirectionFor(m);
            if (direction is not (SdpDirection.SendOnly or SdpDirection.SendRecv))
            {
                refusals.Add(label + " does not send media");
                continue;
            }
            RtpCodec? codec = m.Media switch
            {
                "video" when !videoTaken => PickVideo(m),
                "audio" when !audioTaken => m.Codecs.FirstOrDefault(c => c.IsNamed("opus") && c.ClockRate == 48000),
                _ => null,
            };
            if (codec == null)
            {
                refusals.Add(m.Media is "audio" or "video" ? $"{label} offers no usable codec" : $"{label} is not audio or video");
                continue;
            }
            var kind = m.Media == "video" ? MediaKind.Video : MediaKind.Audio;
            videoTaken |= kind == MediaKind.Video;
            audioTaken |= kind == MediaKind.Audio;

            a.Port = local.CandidatePort;
            a.Formats.Clear();
            a.Formats.Add(codec.PayloadType.ToString(CultureInfo.InvariantCulture));
            var answered = new RtpCodec(codec.PayloadType, codec.Name!, codec.ClockRate, codec.Channels);
            answered.Parameters.AddRange(codec.Parameters);
            var keep = kind == MediaKind.Video ? KeptVideoFeedback : KeptAudioFeedback;
            answered.Feedback.AddRange(codec.Feedback.Where(f => keep.Contains(f.Type) && (f.Type != "ccm" || f.Parameter == "fir")));
            a.Codecs.Add(answered);
            // RFC 4588: RTX when offered for the chosen video codec with NACK, so retransmissions
            // and the sender's bandwidth-probe padding get their own SSRC and sequence (issue 20).
            int rtxPayloadType = -1;
            if (kind == MediaKind.Video && answered.Feedback.Any(f => f.Type == "nack" && f.Parameter is null)
                && m.Codecs.FirstOrDefault(x => x.IsNamed("rtx") && x.AssociatedPayloadType == codec.PayloadType && x.ClockRate == codec.ClockRate) is { } rtx)
            {
                rtxPayloadType = rtx.PayloadType;
                a.Formats.Add(rtx.PayloadType.ToString(CultureInfo.InvariantCulture));
                var answeredRtx = new RtpCodec(rtx.PayloadType, "rtx", rtx.ClockRate);
                answeredRtx.Parameters.Add(new SdpParameter("apt", codec.PayloadType.ToString(CultureInfo.InvariantCulture)));
                a.Codecs.Add(answeredRtx);
            }
            a.Connection = new SdpConnection("IN", IpVersion(local.CandidateAddress), local.CandidateAddress);
            a.Direction = SdpDirection.RecvOnly;
            a.RtcpMux = true;
            a.RtcpReducedSize = m.RtcpReducedSize;
            a.IceUfrag = local.IceUfrag;
            a.IcePwd = local.IcePwd;
            a.Fingerprints.Add(local.Fingerprint);
            a.Setup = weAreClient ? SdpSetupRole.Active : SdpSetupRole.Passive;
            foreach (var ext in m.Extmaps.Where(e => KeptExtensions.Contains(e.Uri)))
            {
                // BUNDLE shares one id space (RFC 8843 §9.2): the first id seen for a URI holds.
                if (extensionIds.TryGetValue(ext.Uri, out int id) && id != ext.Id)
                    continue;
                extensionIds[ext.Uri] = ext.Id;
                a.Extmaps.Add(new SdpExtmap(ext.Id, ext.Uri));
            }
            a.Candidates.Add(new IceCandidate
            {
                Foundation = "1",
                Component = 1,
                Transport = "udp",
                Priority = 2130706431, // RFC 8445 §5.1.2.1: host type preference 126, local preference 65535
                Address = local.CandidateAddress,
                Port = local.CandidatePort,
                Type = "host",
            });
            a.EndOfCandidates = true;
            accepted.Add(m.Mid);
            string? profile = null;
            if (codec.IsNamed("H264") && codec.TryGetH264ProfileLevelId(out byte p, out byte c, out byte l))
                profile = $"{p:x2}{c:x2}{l:x2}";
            tracks.Add(new NegotiatedTrack(m.Mid, kind, codec.Name!.ToUpperInvariant(), codec.PayloadType, codec.ClockRate,
                codec.Channels ?? 1, profile, m.Ssrcs.Select(s => s.Ssrc).ToList(), rtxPayloadType,
                answered.Feedback.Any(f => f.Type == "ccm" && f.Parameter == "fir")));
        }
        if (tracks.Count == 0)
        {
            reason = refusals.Count > 0 ? "nothing to receive: " + string.Join("; ", refusals) : "the offer has no media";
            return false;
        }
        answer.Groups.Add(new SdpGroup("BUNDLE", accepted));
        answer.MsidSemantic = null;
        result = new Result(answer, tracks, ufrag, pwd, fingerprints, weAreClient, extensionIds);
        return true;
    }

    /// <summary>
    /// H264 with packetization-mode 1, Constrained Baseline first (relayed as is), then Baseline, then
    /// any other profile (transcoded); VP8, then VP9, only when no H264 is offered.
    /// </summary>
    private static RtpCodec? PickVideo(MediaDescription m)
    {
        RtpCodec? best = null;
        int bestRank = int.MaxValue;
        foreach (var c in m.Codecs)
        {
            int rank;
            if (c.IsNamed("H264") && c.ClockRate == 90000 && c.H264PacketizationMode == 1)
            {
                if (!c.TryGetH264ProfileLevelId(out byte profile, out byte iop, out _))
                    rank = 3;
                else if (profile == 66 && (iop & 0x40) != 0)
                    rank = 0;
                else if (profile == 66)
                    rank = 1;
                else
                    rank = 2;
            }
            else if (c.IsNamed("VP8") && c.ClockRate == 90000)
                rank = 10;
            else if (c.IsNamed("VP9") && c.ClockRate == 90000)
                rank = 11;
            else
                continue;
            if (rank < bestRank)
            {
                best = c;
                bestRank = rank;
            }
        }
        return best;
    }

    private static string IpVersion(string address) => address.Contains(':') ? "IP6" : "IP4";

    /// <summary>
    /// What every offer must carry, read from its first bundled m-line (RFC 8843): the BUNDLE mids,
    /// the ICE credentials, the DTLS fingerprints and setup role; false with the reason otherwise.
    /// </summary>
    internal static bool TryReadBundleTransport(SessionDescription offer, out IReadOnlyList<string> bundle, out string ufrag, out string pwd,
        out IReadOnlyList<SdpFingerprint> fingerprints, out SdpSetupRole setup, out string reason)
    {
        (ufrag, pwd, fingerprints, setup, reason) = ("", "", Array.Empty<SdpFingerprint>(), SdpSetupRole.None, "");
        bundle = offer.BundleMids;
        var mids = bundle;
        if (mids.Count == 0)
        {
            reason = "the offer has no a=group:BUNDLE; only bundled media is served";
            return false;
        }
        var first = offer.Media.FirstOrDefault(m => m.Mid != null && mids.Contains(m.Mid));
        if (first == null)
        {
            reason = "no m-line of the offer is in its BUNDLE group";
            return false;
        }
        string? u = offer.IceUfragFor(first), p = offer.IcePwdFor(first);
        if (string.IsNullOrEmpty(u) || string.IsNullOrEmpty(p))
        {
            reason = "the offer has no a=ice-ufrag/a=ice-pwd";
            return false;
        }
        (ufrag, pwd) = (u, p);
        fingerprints = offer.FingerprintsFor(first);
        if (fingerprints.Count == 0)
        {
            reason = "the offer has no a=fingerprint: DTLS cannot be authenticated";
            return false;
        }
        setup = offer.SetupFor(first);
        return true;
    }
}
