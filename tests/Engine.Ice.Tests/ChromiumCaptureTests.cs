using System.Text;
using Engine.Ice;

namespace Engine.Ice.Tests;

/// <summary>
/// The STUN traffic of a real Chromium 156 loopback call (tests/fixtures): every binding request
/// and success response must parse and verify with the ice-pwd of the answering side (RFC 8445
/// §7.2.2: the request's USERNAME is "receiver ufrag:sender ufrag" and it is signed with the
/// receiver's password; the response is signed with the same password).
/// </summary>
public class ChromiumCaptureTests
{

    internal static Dictionary<string, byte[]> PasswordsByUfrag()
    {
        var result = new Dictionary<string, byte[]>();
        foreach (var name in new[] { "chromium156-offer.sdp", "chromium156-answer.sdp" })
        {
            string sdp = Fixtures.ReadText(name);
            result[SdpValue(sdp, "a=ice-ufrag:")] = Encoding.ASCII.GetBytes(SdpValue(sdp, "a=ice-pwd:"));
        }
        Assert.Equal(2, result.Count);
        return result;
    }

    private static string SdpValue(string sdp, string prefix)
    {
        int start = sdp.IndexOf(prefix, StringComparison.Ordinal);
        Assert.True(start >= 0, prefix);
        start += prefix.Length;
        int end = sdp.IndexOfAny(['\r', '\n'], start);
        return sdp[start..end];
    }

    internal static List<UdpDatagram> StunDatagrams() =>
        PcapReader.ReadUdp(Fixtures.PathOf("chromium156-loopback.pcap"))
            .Where(d => StunMessageView.LooksLikeStun(d.Payload)).ToList();

    [Fact]
    public void EveryBindingRequestAndResponseVerifies()
    {
        var passwords = PasswordsByUfrag();
        var requests = new Dictionary<string, (byte[] Key, UdpDatagram Datagram)>();
        int requestCount = 0, responseCount = 0;

        foreach (var d in StunDatagrams())
        {
            Assert.True(StunMessageView.TryRead(d.Payload, out var m), $"datagram {d.Index} does not parse");
            Assert.Equal(StunMethod.Binding, m.Method);
            Assert.True(m.HasFingerprint);
            Assert.True(m.VerifyFingerprint(), $"datagram {d.Index}: FINGERPRINT");
            string txid = Convert.ToHexString(m.TransactionId);

            if (m.Class == StunClass.Request)
            {
                Assert.True(m.TryGetUsername(out var username));
                string[] ufrags = Encoding.UTF8.GetString(username).Split(':');
                Assert.Equal(2, ufrags.Length);
                byte[] key = passwords[ufrags[0]]; // the receiver's password
                Assert.True(m.VerifyMessageIntegrity(key), $"datagram {d.Index}: MESSAGE-INTEGRITY");
                Assert.False(m.VerifyMessageIntegrity(passwords[ufrags[1]]));
                Assert.True(m.TryGetPriority(out uint priority) && priority > 0);
                Assert.True(m.TryGetIceControlling(out _) ^ m.TryGetIceControlled(out _));
                // Chromium's GOOG-NETWORK-INFO is comprehension-optional: nothing to answer 420 about.
                Assert.Equal(0, m.GetUnknownComprehensionRequired(Span<StunAttributeType>.Empty));
                requests[txid] = (key, d);
                requestCount++;
            }
            else
            {
                Assert.Equal(StunClass.SuccessResponse, m.Class);
                Assert.True(requests.TryGetValue(txid, out var request), $"datagram {d.Index}: response to an unseen request");
                Assert.True(m.VerifyMessageIntegrity(request.Key), $"datagram {d.Index}: MESSAGE-INTEGRITY");
                // RFC 8489 §7.3.1.1: XOR-MAPPED-ADDRESS is where the request came from.
                Assert.True(m.TryGetXorMappedAddress(out var mapped));
                Assert.Equal(NetAddress.FromIPEndPoint(request.Datagram.Source), mapped);
                responseCount++;
            }
        }
        Assert.Equal(21, requestCount);
        Assert.Equal(21, responseCount);
    }

    [Fact]
    public void OurResponseToEachCapturedRequestEqualsChromiums()
    {
        var passwords = PasswordsByUfrag();
        var answers = new Dictionary<string, byte[]>();
        var datagrams = StunDatagrams();
        foreach (var d in datagrams)
        {
            Assert.True(StunMessageView.TryRead(d.Payload, out var m));
            if (m.Class != StunClass.Request)
                continue;
            Assert.True(m.TryGetUsername(out var username));
            byte[] key = passwords[Encoding.UTF8.GetString(username).Split(':')[0]];
            var buffer = new byte[200];
            var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.SuccessResponse, m.TransactionId);
            Assert.True(w.AddXorMappedAddress(NetAddress.FromIPEndPoint(d.Source)));
            Assert.True(w.AddMessageIntegrity(key));
            Assert.True(w.AddFingerprint());
            answers[Convert.ToHexString(m.TransactionId)] = w.WrittenSpan.ToArray();
        }

        int compared = 0;
        foreach (var d in datagrams)
        {
            Assert.True(StunMessageView.TryRead(d.Payload, out var m));
            if (m.Class != StunClass.SuccessResponse)
                continue;
            Assert.Equal(Convert.ToHexString(answers[Convert.ToHexString(m.TransactionId)]), Convert.ToHexString(d.Payload));
            compared++;
        }
        Assert.Equal(21, compared);
    }
}
