using System.Buffers.Binary;
using Engine.Host.Peers;

namespace Engine.Host.Tests.Peers;

/// <summary>ICE failure, consent kept and lost, and forwarding relayed RTP through a Peer.</summary>
public class PeerLifecycleTests
{
    [Fact]
    public void UnreachableServer_ClientClosesWithIceFailed()
    {
        using var pair = new PeerPair(51);
        pair.Link.Filter = d => d.To != PeerPair.ServerAddress;
        pair.Run(60_000_000, stop: () => pair.Client.State == PeerState.Closed);
        Assert.Equal(PeerState.Closed, pair.Client.State);
        Assert.Equal("ICE failed", pair.Client.CloseReason);
        Assert.InRange(pair.Now, 39_000_000, 40_000_000); // RFC 8489 §6.2.1: 39.5 s with RTO 500 ms
        // The lite side gives the first check one consent timeout (30 s), then ends too.
        Assert.Equal(PeerState.Closed, pair.Server.State);
        Assert.Equal("ICE consent expired", pair.Server.CloseReason);
    }

    [Fact]
    public void Idle_ConsentIsKept_ThenLostWhenThePathDies()
    {
        using var pair = new PeerPair(52);
        pair.Link.DelayMicros = 15_000;
        pair.Connect();
        long connected = pair.Now;
        pair.Run(connected + 90_000_000);
        Assert.Equal(PeerState.Connected, pair.Client.State);
        Assert.Equal(PeerState.Connected, pair.Server.State);
        Assert.True(pair.Client.IceClient!.RequestsSent >= 15); // a check every 4-6 s
        pair.Link.Filter = _ => false;
        long cut = pair.Now;
        pair.Run(cut + 40_000_000, stop: () => pair.Client.State == PeerState.Closed && pair.Server.State == PeerState.Closed);
        Assert.Equal("ICE consent expired", pair.Client.CloseReason);
        Assert.Equal("ICE consent expired", pair.Server.CloseReason);
        Assert.InRange(pair.Now - cut, 24_000_000, 31_000_000);
    }

    [Fact]
    public void WriteRtp_ForwardsRelayedH264_AcrossASourceChange()
    {
        using var pair = new PeerPair(53);
        pair.Link.DelayMicros = 5_000;
        pair.Connect();
        var dump = ReadDump(PeerTestData.PathOf("baseline-320x240.rtp"));
        int framesPerPass = dump.Select(p => BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4))).Distinct().Count();
        // Two passes, the second as if the publisher reconnected: another SSRC, sequence and timestamp base.
        int i = 0;
        var sources = dump.Select(p => p.ToArray()).Concat(dump.Select(p =>
        {
            var q = p.ToArray();
            BinaryPrimitives.WriteUInt32BigEndian(q.AsSpan(8), 0xBEEF);
            BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(2), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(q.AsSpan(2)) + 12345));
            BinaryPrimitives.WriteUInt32BigEndian(q.AsSpan(4), BinaryPrimitives.ReadUInt32BigEndian(q.AsSpan(4)) + 777_777);
            return q;
        })).ToArray();
        long start = pair.Now;
        pair.Run(start + 20_000_000, now =>
        {
            // About a frame every 33 ms: all packets of one timestamp at once.
            if (i >= sources.Length)
                return;
            uint ts = BinaryPrimitives.ReadUInt32BigEndian(sources[i].AsSpan(4));
            while (i < sources.Length && BinaryPrimitives.ReadUInt32BigEndian(sources[i].AsSpan(4)) == ts)
                Assert.True(pair.Client.WriteRtp(0, sources[i++], now));
        }, 33_333);
        var frames = pair.ServerEvents.Where(e => e.Kind == PeerEventKind.FrameReceived && e.Track == 0).ToList();
        Assert.Equal(2 * framesPerPass, frames.Count);
        Assert.True(frames[0].IsKeyframe && frames[framesPerPass].IsKeyframe);
        for (int k = 1; k < frames.Count; k++)
            Assert.True((int)(frames[k].RtpTimestamp - frames[k - 1].RtpTimestamp) > 0, $"timestamp went back at frame {k}");
        Assert.Equal((uint)(2 * dump.Count), pair.Client.GetSendStream(0).PacketsSent);
    }

    /// <summary>The RTP dump format of tests/Engine.Rtp.Tests/Video/testdata: a 2-byte length, then the packet.</summary>
    private static List<byte[]> ReadDump(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var list = new List<byte[]>();
        for (int o = 0; o + 2 <= bytes.Length;)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(o));
            list.Add(bytes.AsSpan(o + 2, len).ToArray());
            o += 2 + len;
        }
        return list;
    }
}
