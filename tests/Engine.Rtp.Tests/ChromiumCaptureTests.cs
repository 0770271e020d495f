using System.Text.RegularExpressions;
using Engine.Rtp;
using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Tests;

/// <summary>
/// The SRTP/SRTCP packets Chromium 156 sent in chromium156-loopback.pcap. SRTP leaves the RTP
/// header and its extensions in clear (RFC 3711 §3.1); SRTCP leaves the first 8 bytes in clear.
/// </summary>
public class ChromiumCaptureTests
{
    private static readonly List<UdpDatagram> Datagrams = PcapReader.ReadUdp(Fixtures.PathOf("chromium156-loopback.pcap"));

    /// <summary>extmap id -> URI per m= section of the offer, by simple line matching (no SDP parser).</summary>
    private static (Dictionary<int, string> Audio, Dictionary<int, string> Video) OfferExtmaps()
    {
        var audio = new Dictionary<int, string>();
        var video = new Dictionary<int, string>();
        Dictionary<int, string>? current = null;
        foreach (var raw in Fixtures.ReadText("chromium156-offer.sdp").Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("m=audio")) current = audio;
            else if (line.StartsWith("m=video")) current = video;
            else if (line.StartsWith("m=")) current = null;
            var m = Regex.Match(line, @"^a=extmap:(\d+)(?:/\w+)? (\S+)");
            if (m.Success && current != null)
                current[int.Parse(m.Groups[1].Value)] = m.Groups[2].Value;
        }
        return (audio, video);
    }

    private static bool IsRtpOrRtcp(byte[] p) => p.Length >= 12 && p[0] is >= 128 and <= 191;

    // RFC 5761 §4: with rtcp-mux, the second byte 192..223 means RTCP.
    private static bool IsRtcp(byte[] p) => p[1] is >= 192 and <= 223;

    /// <summary>
    /// SRTP/SRTCP encrypt the tail, so the padding count (the packet's last byte) is ciphertext or
    /// tag; clear P to read the clear header only.
    /// </summary>
    private static byte[] WithoutPaddingBit(byte[] p)
    {
        var copy = (byte[])p.Clone();
        copy[0] &= 0xdf;
        return copy;
    }

    [Fact]
    public void RtpHeaders_AndExtensionIds_MatchTheOffer()
    {
        var (audioMap, videoMap) = OfferExtmaps();
        Assert.Equal(RtpExtensionUris.AudioLevel, audioMap[1]);
        Assert.Equal(RtpExtensionUris.TransportSequenceNumber, videoMap[3]);
        var audio = new RtpHeaderExtensionMap();
        foreach (var (id, uri) in audioMap) audio.Register(id, uri);
        var video = new RtpHeaderExtensionMap();
        foreach (var (id, uri) in videoMap) video.Register(id, uri);

        int rtpCount = 0, withTwcc = 0, withAbsSendTime = 0, withMid = 0, withAudioLevel = 0;
        var transportSeqBySender = new Dictionary<string, HashSet<long>>();
        var kindsSeen = new HashSet<RtpExtensionKind>();
        foreach (var d in Datagrams)
        {
            if (!IsRtpOrRtcp(d.Payload) || IsRtcp(d.Payload))
                continue;
            Assert.True(RtpPacketView.TryRead(WithoutPaddingBit(d.Payload), out var rtp), $"datagram {d.Index}");
            rtpCount++;
            Assert.Equal(2, rtp.Version);
            Assert.Contains(rtp.PayloadType, new byte[] { 111, 102 });
            bool isAudio = rtp.PayloadType == 111;
            var offered = isAudio ? audioMap : videoMap;
            var map = isAudio ? audio : video;
            Assert.Equal(RtpHeaderExtensionEnumerator.OneByteProfile, rtp.ExtensionProfile);
            foreach (var e in rtp.Extensions)
            {
                Assert.True(offered.ContainsKey(e.Id), $"extension id {e.Id} in datagram {d.Index} is not in the offer's extmap");
                var kind = map.GetKind(e.Id);
                kindsSeen.Add(kind);
                switch (kind)
                {
                    case RtpExtensionKind.TransportSequenceNumber:
                        Assert.True(TransportSequenceNumber.TryRead(e.Data, out ushort tsn));
                        var key = d.Source.ToString();
                        if (!transportSeqBySender.TryGetValue(key, out var set))
                            transportSeqBySender[key] = set = [];
                        Assert.True(set.Add(tsn), "transport-wide sequence numbers are unique per sender");
                        withTwcc++;
                        break;
                    case RtpExtensionKind.AbsSendTime:
                        Assert.True(AbsSendTime.TryRead(e.Data, out _));
                        withAbsSendTime++;
                        break;
                    case RtpExtensionKind.Mid:
                        // a=mid:0 for audio, a=mid:1 for video in the offer
                        Assert.Equal(isAudio ? "0"u8.ToArray() : "1"u8.ToArray(), e.Data.ToArray());
                        withMid++;
                        break;
                    case RtpExtensionKind.AudioLevel:
                        Assert.True(isAudio);
                        Assert.True(AudioLevel.TryRead(e.Data, out var level));
                        Assert.InRange(level.LevelDbov, 0, 127);
                        withAudioLevel++;
                        break;
                    case RtpExtensionKind.PlayoutDelay:
                        Assert.True(PlayoutDelay.TryRead(e.Data, out _));
                        break;
                }
            }
        }
        Assert.Equal(448, rtpCount);
        Assert.Equal(rtpCount, withTwcc); // every packet carries transport-cc
        Assert.True(withAbsSendTime > 0 && withMid > 0 && withAudioLevel > 0);
        Assert.Contains(RtpExtensionKind.TransportSequenceNumber, kindsSeen);
    }

    [Fact]
    public void TransportSequenceNumbers_UnwrapToAnIncreasingStreamPerSender()
    {
        var (audioMap, _) = OfferExtmaps();
        int twccId = audioMap.Single(kv => kv.Value == RtpExtensionUris.TransportSequenceNumber).Key;
        var unwrappers = new Dictionary<string, SeqNoUnwrapper>();
        var seen = new Dictionary<string, List<long>>();
        foreach (var d in Datagrams)
        {
            if (!IsRtpOrRtcp(d.Payload) || IsRtcp(d.Payload)) continue;
            Assert.True(RtpPacketView.TryRead(WithoutPaddingBit(d.Payload), out var rtp));
            Assert.True(rtp.TryGetExtension(twccId, out var data));
            Assert.True(TransportSequenceNumber.TryRead(data, out ushort tsn));
            var key = d.Source.ToString();
            var u = unwrappers.GetValueOrDefault(key);
            long value = u.Unwrap(tsn);
            unwrappers[key] = u;
            if (!seen.TryGetValue(key, out var list)) seen[key] = list = [];
            list.Add(value);
        }
        foreach (var list in seen.Values)
        {
            // Loopback keeps order: one counter for audio and video together, so consecutive.
            Assert.Equal(Enumerable.Range(0, list.Count).Select(i => list[0] + i), list);
        }
    }

    [Fact]
    public void SrtcpHeaders_ShowTheRtcpTypesChromiumSent()
    {
        var types = new Dictionary<RtcpPacketType, int>();
        foreach (var d in Datagrams)
        {
            if (!IsRtpOrRtcp(d.Payload) || !IsRtcp(d.Payload)) continue;
            // Only the first packet's header and sender SSRC are clear; its length must fit the
            // datagram together with the SRTCP index (4 bytes) and an auth tag. Chromium pads its
            // transport-cc feedback with the P bit set, and that padding count is ciphertext.
            var p = WithoutPaddingBit(d.Payload);
            Assert.True(RtcpPacketView.TryRead(p.AsSpan(0, p.Length - 4), out var packet, out int length), $"datagram {d.Index}");
            Assert.True(length <= p.Length - 4 - 10);
            types[packet.PacketType] = types.GetValueOrDefault(packet.PacketType) + 1;
        }
        Assert.Equal(82, types[RtcpPacketType.TransportFeedback]);
        Assert.Equal(7, types[RtcpPacketType.SenderReport]);
        Assert.Equal(6, types[RtcpPacketType.ReceiverReport]);
        Assert.Equal(3, types.Count);
    }
}
