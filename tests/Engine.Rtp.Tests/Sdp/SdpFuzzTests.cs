using System.Text;
using Engine.Rtp.Sdp;
using FsCheck;
using FsCheck.Fluent;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>Random, truncated, mutated and oversized input: the parser never throws, a failure
/// always carries a reason, and anything accepted writes SDP that parses back to the same model.</summary>
public class SdpFuzzTests
{
    private static readonly string[] Seeds =
    [
        Fixtures.ReadText("chromium156-offer.sdp"),
        Fixtures.ReadText("chromium156-answer.sdp"),
        SdpSamples.Full,
    ];

    /// <summary>The property every input must satisfy. Returns false (never throws) when violated.</summary>
    private static bool Holds(string? text, out string why) => Holds(text, out why, out _);

    private static bool Holds(string? text, out string why, out bool accepted)
    {
        why = "";
        bool ok = SessionDescription.TryParse(text, out var sdp, out var error);
        accepted = ok;
        if (!ok)
        {
            if (sdp != null) { why = "failure returned a model"; return false; }
            if (string.IsNullOrEmpty(error.Reason)) { why = "failure without a reason"; return false; }
            if (error.Line < 0) { why = "negative line number"; return false; }
            return true;
        }
        string written = sdp!.Write();
        if (!SessionDescription.TryParse(written, out var again, out var error2))
        {
            why = $"writer produced SDP the parser rejects: {error2}";
            return false;
        }
        var diff = SdpStructure.FindDifference(sdp, again, "sdp", 0);
        if (diff != null) { why = "round trip changed the model: " + diff; return false; }
        if (again!.Write() != written) { why = "write is not stable"; return false; }
        return true;
    }

    /// <summary>Asserts the property; returns whether the input was accepted.</summary>
    private static bool AssertHolds(string? text)
    {
        bool holds, accepted = false;
        string why;
        try
        {
            holds = Holds(text, out why, out accepted);
        }
        catch (Exception ex)
        {
            holds = false;
            why = "threw " + ex;
        }
        Assert.True(holds, $"{why}\n--- input ---\n{text}");
        return accepted;
    }

    [Fact]
    public void Every_truncation_of_the_fixtures()
    {
        int accepted = 0, total = 0;
        foreach (var seed in Seeds)
            for (int len = 0; len <= seed.Length; len++, total++)
                if (AssertHolds(seed[..len])) accepted++;
        // Most cuts end mid-line in a harmless place: the round-trip check must have run on many.
        Assert.InRange(accepted, total / 4, total - 1);
    }

    [Fact]
    public void Seeded_random_mutations_of_the_fixtures()
    {
        var rng = new Random(20261122);
        int accepted = 0;
        const string alphabet = "=: /;,.~-\t\r\n0123456789abcdefxyzAZ*\0\u00e9";
        for (int iteration = 0; iteration < 4000; iteration++)
        {
            var sb = new StringBuilder(Seeds[iteration % Seeds.Length]);
            int edits = 1 + rng.Next(4);
            for (int e = 0; e < edits && sb.Length > 0; e++)
            {
                int at = rng.Next(sb.Length);
                switch (rng.Next(6))
                {
                    case 0: sb.Remove(at, 1); break;
                    case 1: sb.Insert(at, alphabet[rng.Next(alphabet.Length)]); break;
                    case 2: sb[at] = alphabet[rng.Next(alphabet.Length)]; break;
                    case 3: sb.Remove(at, Math.Min(sb.Length - at, rng.Next(1, 40))); break;
                    case 4:
                        // Duplicate a slice somewhere else (repeated lines, swapped fields).
                        int len = Math.Min(sb.Length - at, rng.Next(1, 80));
                        sb.Insert(rng.Next(sb.Length), sb.ToString(at, len));
                        break;
                    default: sb[at] = (char)rng.Next(0, 0x80); break;
                }
            }
            if (AssertHolds(sb.ToString())) accepted++;
        }
        // Both outcomes are exercised: the round-trip property ran on accepted mutants and
        // rejection paths on the rest.
        Assert.InRange(accepted, 400, 3600);
    }

    [Fact]
    public void Seeded_line_shuffles_and_drops()
    {
        var rng = new Random(7);
        for (int iteration = 0; iteration < 600; iteration++)
        {
            var lines = Seeds[iteration % Seeds.Length].Replace("\r\n", "\n").Split('\n').ToList();
            for (int k = 0; k < 3; k++)
            {
                int i = rng.Next(lines.Count), j = rng.Next(lines.Count);
                if (rng.Next(2) == 0) (lines[i], lines[j]) = (lines[j], lines[i]);
                else lines.RemoveAt(i);
                if (lines.Count == 0) break;
            }
            AssertHolds(string.Join(rng.Next(2) == 0 ? "\n" : "\r\n", lines));
        }
    }

    [Fact]
    public void Random_strings_fscheck()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), s => Holds(s, out _))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(1000));
    }

    [Fact]
    public void Random_sdp_shaped_lines_fscheck()
    {
        // Lines built from SDP pieces reach the attribute parsers far more often than raw strings.
        string[] heads = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0"];
        string[] pieces =
        [
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 0", "m=video 9 RTP/AVP 96 97", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
            "a=rtpmap:111 opus/48000/2", "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96", "a=fmtp:111 a=1;b",
            "a=rtcp-fb:96 nack pli", "a=rtcp-fb:* ccm fir", "a=extmap:1/sendonly urn:x attr", "a=ssrc:1 cname:x", "a=ssrc-group:FID 1 2",
            "a=msid:s t", "a=mid:0", "a=sendrecv", "a=rtcp-mux", "a=rid:a send pt=96;max-fps=30", "a=simulcast:send a;~b recv c",
            "a=candidate:1 1 udp 5 1.2.3.4 9 typ host generation 0", "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuv",
            "a=setup:actpass", "a=group:BUNDLE 0 1", "a=ice-lite", "a=x-unknown:1 2", "c=IN IP4 0.0.0.0", "b=AS:30", "i=info",
            "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
            "a=end-of-candidates", "a=msid-semantic: WMS x", "a=rtcp:9 IN IP4 0.0.0.0", "a=", "a=rtpmap:", "m=", "",
        ];
        var gen =
            from body in Gen.ListOf(Gen.Elements(pieces))
            from cut in Gen.Choose(0, 3)
            from junk in Gen.Elements("", " ", "\t", "x", ":", "/", ";", "1")
            select string.Join("\r\n", heads.Concat(body.Select((l, i) => i % 5 == cut && l.Length > 0 ? l[..^1] + junk : l)));
        Prop.ForAll(gen.ToArbitrary(), s => Holds(s, out _))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(1500));
    }

    [Fact]
    public void Oversized_random_input_fails_cleanly()
    {
        var rng = new Random(3);
        var chars = new char[SessionDescription.MaxLength + 1 + rng.Next(1000)];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)rng.Next(0x20, 0x7f);
        var text = "v=0\r\n" + new string(chars);
        Assert.False(SessionDescription.TryParse(text, out _, out var error));
        Assert.Contains("limit", error.Reason);
    }

    [Fact]
    public void Random_candidate_lines_never_throw()
    {
        var rng = new Random(11);
        const string sample = "candidate:842163049 1 udp 1677729535 203.0.113.7 46243 typ srflx raddr 192.168.0.196 rport 46243 generation 0 ufrag EsAw network-id 1 network-cost 10";
        for (int i = 0; i < 3000; i++)
        {
            var sb = new StringBuilder(sample);
            for (int e = 0; e < 1 + rng.Next(3) && sb.Length > 0; e++)
            {
                int at = rng.Next(sb.Length);
                if (rng.Next(2) == 0) sb.Remove(at, Math.Min(sb.Length - at, rng.Next(1, 8)));
                else sb.Insert(at, " 0:x-"[rng.Next(5)]);
            }
            string text = sb.ToString();
            if (IceCandidate.TryParse(text, out var c, out string reason))
            {
                Assert.True(IceCandidate.TryParse(c.ToString(), out var again, out reason), reason);
                Assert.Equal(c.ToString(), again!.ToString());
            }
            else
            {
                Assert.NotEmpty(reason);
            }
        }
    }
}
