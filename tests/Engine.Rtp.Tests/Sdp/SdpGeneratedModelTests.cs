using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>Models built in code (as a server builds an answer) with seeded random content:
/// write -> parse gives the same model back.</summary>
public class SdpGeneratedModelTests
{
    private static readonly string[] Names = ["opus", "H264", "VP8", "rtx", "red", "ulpfec", "telephone-event", "AV1"];
    private static readonly string[] Words = ["a", "b-c", "x_1", "42", "minptime", "apt", "profile-level-id", "tok.en"];

    private static string Pick(Random r, string[] from) => from[r.Next(from.Length)];

    private static string IceChars(Random r, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
        return string.Create(length, r, static (span, rng) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = alphabet[rng.Next(alphabet.Length)];
        });
    }

    private static SessionDescription Build(Random r)
    {
        var sdp = new SessionDescription
        {
            Origin = new SdpOrigin("-", r.NextInt64().ToString(), r.Next(1, 9).ToString(), "IN", "IP4", "127.0.0.1"),
            IceLite = r.Next(2) == 0,
            ExtmapAllowMixed = r.Next(2) == 0,
            Setup = (SdpSetupRole)r.Next(5),
            Direction = (SdpDirection)r.Next(5),
        };
        if (r.Next(2) == 0) sdp.IceUfrag = IceChars(r, 4 + r.Next(20));
        if (r.Next(2) == 0) sdp.Attributes.Add(new SdpAttribute("x-" + Pick(r, Words), r.Next(2) == 0 ? null : Pick(r, Words)));
        var bundle = new SdpGroup("BUNDLE");
        int sections = 1 + r.Next(4);
        for (int s = 0; s < sections; s++)
        {
            bool rtp = r.Next(5) != 0;
            var m = new MediaDescription(rtp ? (s % 2 == 0 ? "audio" : "video") : "application", r.Next(2) == 0 ? 9 : 0, rtp ? "UDP/TLS/RTP/SAVPF" : "UDP/DTLS/SCTP")
            {
                Mid = s.ToString(),
                Direction = (SdpDirection)r.Next(5),
                RtcpMux = r.Next(2) == 0,
                RtcpReducedSize = r.Next(2) == 0,
                Setup = (SdpSetupRole)r.Next(5),
                IcePwd = r.Next(2) == 0 ? IceChars(r, 22 + r.Next(10)) : null,
                Connection = new SdpConnection("IN", "IP4", "0.0.0.0"),
            };
            bundle.Mids.Add(m.Mid);
            if (rtp)
            {
                var pts = Enumerable.Range(0, 128).OrderBy(_ => r.Next()).Take(1 + r.Next(6)).ToList();
                foreach (int pt in pts)
                {
                    var c = r.Next(6) == 0 ? new RtpCodec(pt) : new RtpCodec(pt, Pick(r, Names), r.Next(1, 100000), r.Next(3) == 0 ? r.Next(1, 9) : null);
                    for (int k = r.Next(4); k > 0; k--) c.Parameters.Add(new SdpParameter(Pick(r, Words), r.Next(3) == 0 ? null : Pick(r, Words)));
                    for (int k = r.Next(3); k > 0; k--) c.Feedback.Add(new SdpRtcpFeedback(Pick(r, Words), r.Next(2) == 0 ? null : Pick(r, Words)));
                    m.Codecs.Add(c);
                }
                foreach (int id in Enumerable.Range(1, 14).OrderBy(_ => r.Next()).Take(r.Next(5)))
                    m.Extmaps.Add(new SdpExtmap(id, "urn:ietf:params:rtp-hdrext:" + Pick(r, Words), (SdpDirection)r.Next(5)));
                for (int k = r.Next(3); k > 0; k--)
                {
                    var ssrc = new SdpSsrc((uint)r.NextInt64(0, uint.MaxValue + 1L));
                    ssrc.Attributes.Add(new SdpParameter("cname", Pick(r, Words)));
                    m.Ssrcs.Add(ssrc);
                }
                if (m.Ssrcs.Count == 2) m.SsrcGroups.Add(new SdpSsrcGroup("FID", m.Ssrcs.Select(x => x.Ssrc)));
                if (r.Next(3) == 0)
                {
                    var rid = new SdpRid("r" + s, r.Next(2) == 0 ? SdpRidDirection.Send : SdpRidDirection.Recv);
                    rid.PayloadTypes.Add(pts[0]);
                    rid.Restrictions.Add(new SdpParameter("max-width", "640"));
                    m.Rids.Add(rid);
                    var sc = new SdpSimulcast();
                    sc.Send.Add([new SdpSimulcastRid(rid.Id, r.Next(2) == 0)]);
                    m.Simulcast = sc;
                }
            }
            else
            {
                m.Formats.Add("webrtc-datachannel");
                m.Attributes.Add(new SdpAttribute("sctp-port", "5000"));
            }
            for (int k = r.Next(3); k > 0; k--)
            {
                var c = new IceCandidate
                {
                    Foundation = r.Next().ToString(),
                    Component = 1 + r.Next(2),
                    Transport = r.Next(2) == 0 ? "udp" : "tcp",
                    Priority = (uint)r.NextInt64(0, uint.MaxValue + 1L),
                    Address = r.Next(2) == 0 ? "192.0.2." + r.Next(256) : "2001:db8::" + r.Next(999),
                    Port = r.Next(65536),
                    Type = r.Next(2) == 0 ? "host" : "srflx",
                    Generation = r.Next(2) == 0 ? r.Next(5) : null,
                    NetworkCost = r.Next(2) == 0 ? r.Next(1000) : null,
                };
                if (c.Type == "srflx") { c.RelatedAddress = "10.0.0.1"; c.RelatedPort = r.Next(65536); }
                m.Candidates.Add(c);
            }
            var digest = new byte[32];
            r.NextBytes(digest);
            m.Fingerprints.Add(new SdpFingerprint("sha-256", digest));
            sdp.Media.Add(m);
        }
        sdp.Groups.Add(bundle);
        return sdp;
    }

    [Fact]
    public void Built_models_survive_write_and_parse()
    {
        var r = new Random(1234);
        for (int i = 0; i < 300; i++)
        {
            var model = Build(r);
            string text = model.Write();
            Assert.True(SessionDescription.TryParse(text, out var parsed, out var error), $"{error}\n{text}");
            var diff = SdpStructure.FindDifference(model, parsed, "sdp", 0);
            Assert.True(diff is null, $"{diff}\n{text}");
            Assert.Equal(text, parsed!.Write());
        }
    }
}
