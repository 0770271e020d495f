namespace Engine.Host.Tests;

public class FixturesTests
{
    [Fact]
    public void CaptureHoldsStunDtlsAndSrtpDatagrams()
    {
        var dgrams = PcapReader.ReadUdp(Fixtures.PathOf("chromium156-loopback.pcap"));
        Assert.True(dgrams.Count > 100, $"only {dgrams.Count} datagrams");
        // RFC 7983 first-byte ranges: STUN 0-3, DTLS 20-63, RTP/RTCP 128-191.
        Assert.Contains(dgrams, d => d.Payload[0] <= 3);
        Assert.Contains(dgrams, d => d.Payload[0] is >= 20 and <= 63);
        Assert.Contains(dgrams, d => d.Payload[0] is >= 128 and <= 191);
    }
}
