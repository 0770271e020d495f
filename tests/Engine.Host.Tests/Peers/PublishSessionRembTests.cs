using Engine.Host.Tests.Sessions;

namespace Engine.Host.Tests.Peers;

/// <summary>A publish session with RTP_AUTO_BITRATE=1 (the harness: 100 kbps - 2 Mbps): its REMB follows a rate-limited link, and /api/streams shows it.</summary>
public class PublishSessionRembTests
{
    [Fact]
    public void Remb_FollowsARateLimitedLink_AndShowsInTheStatus()
    {
        using var h = new PublishHarness(91);
        h.Link.DelayMicros = 20_000;
        h.Connect();
        h.Link.Bottlenecked = d => d.To == PublishHarness.ServerAddress;
        var frame = new byte[1_400_000 / 8 / 30]; // 1.4 Mbps, under the 2 Mbps cap
        frame[3] = 1;
        frame[4] = 0x41;
        frame.AsSpan(5).Fill(0xAB);
        uint ts = 0;
        void Tick(long now) => h.Client.WriteFrame(0, frame, ts += 3000, now);
        long t0 = h.Now;
        h.Run(t0 + 6_000_000, Tick, 33_333);
        long free = h.Json().GetProperty("rembBps").GetInt64();

        h.Link.RateBps = 800_000;
        h.Run(t0 + 21_000_000, Tick, 33_333);
        long limited = h.Json().GetProperty("rembBps").GetInt64();

        Assert.True(free >= 1_400_000, $"REMB on the free link {free}");
        Assert.InRange(limited, 100_000, 1_000_000);
        Assert.InRange(h.Client.RemoteRembBps, limited - limited / 100_000, limited); // 18-bit mantissa
        Assert.True(h.Session.Peer.ReceiveEstimator!.Packets > 1000);
    }
}
