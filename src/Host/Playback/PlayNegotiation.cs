using System.Globalization;
using Engine.Host.Sessions;
using Engine.Rtp.Sdp;

namespace Engine.Host.Playback;

/// <summary>
/// Answers a player's offer (draft-ietf-wish-whep) for a stream published here, as an ICE-lite,
/// BUNDLE-only, rtcp-mux-only sender: each recvonly audio/video m-line gets the publisher's codec of
/// that kind under the player's payload type, our SSRC (and RTX when offered) with cname and msid,
/// a=sendonly, setup:passive. H.264 is sent only to a player offering the publisher's profile with
/// packetization-mode 1: the packets are relayed, not transcoded; an RTMP pull (<c>vp8WhenNoH264</c>)
/// answers VP8 to a player offering no such H.264 but VP8 (Firefox without OpenH264), the pull
/// then encoding VP8 for it. The mid, abs-send-time and
/// transport-wide-cc extensions are kept when offered (one id each for the BUNDLE transport: the
/// first m-line's), transport-cc with <c>a=rtcp-fb:* transport-cc</c>, so the player's feedback
/// reaches the send history.
/// </summary>
public static class PlayNegotiation
{
    public const string Cname = "engine";

    public sealed record Result(SessionDescription Answer, IReadOnlyList<PlayTrack> Tracks, string RemoteUfrag, IReadOnlyList<SdpFingerprint> RemoteFingerprints,
        int MidExtensionId, int AbsSendTimeExtensionId = 0, int TransportCcExtensionId = 0);

    public static bool TryAnswer(SessionDescription offer, IReadOnlyList<NegotiatedTrack> published, string stream, PublishNegotiation.LocalParameters local,
        Random random, out Result? result, out string reason, bool vp8WhenNoH264 = false)
    {
        result = null;
        reason = "";
        if (!PublishNegotiation.TryReadBundleTransport(offer, out var bundle, out string ufrag, out string pwd, out var fingerprints, out var setup, out reason))
            return false;
        if (setup is SdpSetupRole.HoldConn or SdpSetupRole.Passive)
        {
            reason = $"a=setup:{(setup == SdpSetupRole.Passive ? "passive" : "holdconn")} is not served: a player must be the DTLS client (actpass or active)";
            return false;
        }

        string ipVersion = local.CandidateAddress.Contains(':') ? "IP6" : "IP4";
        var answer = new SessionDescription
        {
            Origin = new SdpOrigin("-", local.SessionId.ToString(CultureInfo.InvariantCulture), "2", "IN", ipVersion, local.CandidateAddress),
            SessionName = "-",
            IceLite = true,
            MsidSemantic = "WMS",
        };
        answer.MsidSemanticStreamIds.Add(stream);
        var tracks = new List<PlayTrack>();
        var accepted = new List<string>();
        var refusals = new List<string>();
        var taken = new HashSet<int>();
        int midExtensionId = 0, absSendTimeId = 0, transportCcId = 0;
        foreach (var m in offer.Media)
        {
            var a = new MediaDescription(m.Media, 0, m.Protocol) { Mid = m.Mid };
            a.Formats.AddRange(m.Formats.Take(1));
            answer.Media.Add(a);
            string label = $"m-line {m.Mid ?? "?"} ({m.Media})";
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
            if (offer.DirectionFor(m) is not (SdpDirection.RecvOnly or SdpDirection.SendRecv))
            {
                refusals.Add(label + " does not receive media");
                continue;
            }
            var kind = m.Media switch { "video" => MediaKind.Video, "audio" => MediaKind.Audio, _ => (MediaKind?)null };
            int source = -1;
            for (int i = 0; i < published.Count && kind != null; i++)
                if (published[i].Kind == kind && !taken.Contains(i))
                {
                    source = i;
                    break;
                }
            if (source < 0)
            {
                refusals.Add(kind == null ? $"{label} is not audio or video" : $"{label}: the stream publishes no {m.Media}");
                continue;
            }
            var pub = published[source];
            var codec = Match(m, pub, out string why);
            string sentCodec = pub.Codec;
            if (codec == null && vp8WhenNoH264 && pub.Codec == "H264"
                && m.Codecs.FirstOrDefault(c => c.IsNamed("VP8") && c.ClockRate == 90000) is { } vp8)
            {
                codec = vp8;
                sentCodec = "VP8";
            }
            if (codec == null)
            {
                reason = $"{label}: {why}";
                return false;
            }
            taken.Add(source);

            a.Port = local.CandidatePort;
            a.Formats.Clear();
            a.Formats.Add(codec.PayloadType.ToString(CultureInfo.InvariantCulture));
            var answered = new RtpCodec(codec.PayloadType, codec.Name!, codec.ClockRate, codec.Channels);
            answered.Parameters.AddRange(codec.Parameters);
            if (pub.Stereo is bool stereo && answered.IsNamed("opus"))
                AnswerOpusChannels(answered, stereo && !codec.Parameters.Any(p => p.Name == "stereo" && p.Value == "0"));
            if (kind == MediaKind.Video)
                answered.Feedback.AddRange(codec.Feedback.Where(f => (f.Type == "nack" && f.Parameter is null or "pli") || (f.Type == "ccm" && f.Parameter == "fir")));
            a.Codecs.Add(answered);

            uint ssrc = NewSsrc(random);
            uint? rtxSsrc = null;
            byte rtxPt = 0;
            if (kind == MediaKind.Video && codec.Feedback.Any(f => f.Type == "nack" && f.Parameter is null)
                && m.Codecs.FirstOrDefault(c => c.IsNamed("rtx") && c.AssociatedPayloadType == codec.PayloadType) is { } rtx)
            {
                rtxSsrc = NewSsrc(random);
                rtxPt = (byte)rtx.PayloadType;
                a.Formats.Add(rtx.PayloadType.ToString(CultureInfo.InvariantCulture));
                var answeredRtx = new RtpCodec(rtx.PayloadType, "rtx", rtx.ClockRate);
                answeredRtx.Parameters.Add(new SdpParameter("apt", codec.PayloadType.ToString(CultureInfo.InvariantCulture)));
                a.Codecs.Add(answeredRtx);
            }
            a.Connection = new SdpConnection("IN", ipVersion, local.CandidateAddress);
            a.Direction = SdpDirection.SendOnly;
            a.RtcpMux = true;
            a.RtcpReducedSize = m.RtcpReducedSize;
            a.IceUfrag = local.IceUfrag;
            a.IcePwd = local.IcePwd;
            a.Fingerprints.Add(local.Fingerprint);
            a.Setup = SdpSetupRole.Passive;
            if (m.FindExtmap(PublishNegotiation.MidUri) is { } midExt && (midExtensionId == 0 || midExtensionId == midExt.Id))
            {
                midExtensionId = midExt.Id;
                a.Extmaps.Add(new SdpExtmap(midExt.Id, PublishNegotiation.MidUri));
            }
            if (m.FindExtmap(PublishNegotiation.AbsSendTimeUri) is { } absExt && (absSendTimeId == 0 || absSendTimeId == absExt.Id))
            {
                absSendTimeId = absExt.Id;
                a.Extmaps.Add(new SdpExtmap(absExt.Id, PublishNegotiation.AbsSendTimeUri));
            }
            // draft-holmer-rmcat-transport-wide-cc-extensions-01 §4: the extension and the feedback come together.
            if (m.FindExtmap(PublishNegotiation.TransportCcUri) is { } tccExt && (transportCcId == 0 || transportCcId == tccExt.Id)
                && (m.WildcardFeedback.Any(f => f.Type == "transport-cc") || m.Codecs.Any(c => c.Feedback.Any(f => f.Type == "transport-cc"))))
            {
                transportCcId = tccExt.Id;
                a.Extmaps.Add(new SdpExtmap(tccExt.Id, PublishNegotiation.TransportCcUri));
                a.WildcardFeedback.Add(new SdpRtcpFeedback("transport-cc", null));
            }
            string trackId = m.Mid + "-" + m.Media;
            a.Msids.Add(new SdpMsid(stream, trackId));
            foreach (uint s in rtxSsrc is uint r ? new[] { ssrc, r } : new[] { ssrc })
            {
                var line = new SdpSsrc(s);
                line.Attributes.Add(new SdpParameter("cname", Cname));
                line.Attributes.Add(new SdpParameter("msid", stream + " " + trackId));
                a.Ssrcs.Add(line);
            }
            if (rtxSsrc is uint fid)
                a.SsrcGroups.Add(new SdpSsrcGroup("FID", new[] { ssrc, fid }));
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
            tracks.Add(new PlayTrack(m.Mid, kind!.Value, sentCodec, source, (byte)codec.PayloadType, codec.ClockRate, ssrc, rtxSsrc, rtxPt));
        }
        if (tracks.Count == 0)
        {
            reason = refusals.Count > 0 ? "nothing to send: " + string.Join("; ", refusals) : "the offer has no media";
            return false;
        }
        // RFC 8866 §5.14: a refused RTP m-line still lists a payload type (its port 0 refuses it); browsers reject an empty list.
        for (int i = 0; i < answer.Media.Count; i++)
            if (answer.Media[i].IsRtp && answer.Media[i].Codecs.Count == 0 && offer.Media[i].Codecs.Count > 0)
                answer.Media[i].Codecs.Add(new RtpCodec(offer.Media[i].Codecs[0].PayloadType));
        answer.Groups.Add(new SdpGroup("BUNDLE", accepted));
        result = new Result(answer, tracks, ufrag, fingerprints, midExtensionId, absSendTimeId, transportCcId);
        return true;
    }

    /// <summary>The player's codec for what the publisher sends: same name and clock rate; for H.264 the same profile with packetization-mode 1.</summary>
    private static RtpCodec? Match(MediaDescription m, NegotiatedTrack pub, out string why)
    {
        why = "";
        if (pub.Codec != "H264")
        {
            var c = m.Codecs.FirstOrDefault(c => c.IsNamed(pub.Codec) && c.ClockRate == pub.ClockRate);
            if (c == null)
                why = $"the stream is {pub.Codec}/{pub.ClockRate} and the player does not offer it (media is relayed, not transcoded)";
            return c;
        }
        byte pubProfile = 0x42, pubIop = 0xe0;
        if (pub.H264ProfileLevelId is { Length: 6 } pli && int.TryParse(pli, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v))
        {
            pubProfile = (byte)(v >> 16);
            pubIop = (byte)(v >> 8);
        }
        RtpCodec? best = null;
        int bestRank = int.MaxValue;
        foreach (var c in m.Codecs)
        {
            if (!c.IsNamed("H264") || c.ClockRate != 90000 || c.H264PacketizationMode != 1)
                continue;
            if (!c.TryGetH264ProfileLevelId(out byte profile, out byte iop, out _))
            {
                profile = 0x42; // RFC 6184 §8.1: absent means 420010, Baseline
                iop = 0;
            }
            if (profile != pubProfile)
                continue;
            // The same constraint flags first; a decoder of the wider profile also decodes the constrained one.
            int rank = iop == pubIop ? 0 : (iop & ~pubIop) == 0 ? 1 : 2;
            if (rank == 2)
                continue;
            if (rank < bestRank)
            {
                best = c;
                bestRank = rank;
            }
        }
        if (best == null)
            why = $"the stream is H264 profile-level-id {pub.H264ProfileLevelId ?? "42e01f"} and the player offers no H264 of that profile with packetization-mode=1";
        return best;
    }

    /// <summary>
    /// RFC 7587 §7.1: sprop-stereo=1 says we send stereo; stereo=1 also goes in the answer since browsers
    /// decode to stereo only when the remote description asks for it. An offer's stereo=0 (the player
    /// prefers mono) or a mono source answers mono.
    /// </summary>
    private static void AnswerOpusChannels(RtpCodec answered, bool stereo)
    {
        answered.Parameters.RemoveAll(p => p.Name is "stereo" or "sprop-stereo");
        string v = stereo ? "1" : "0";
        answered.Parameters.Add(new SdpParameter("stereo", v));
        answered.Parameters.Add(new SdpParameter("sprop-stereo", v));
    }

    private static uint NewSsrc(Random random) => (uint)random.NextInt64(1, uint.MaxValue);
}
