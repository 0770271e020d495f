using Engine.Host.Transport;

namespace Engine.Host.Tests.Transport;

public class DatagramDemuxTests
{
    [Theory]
    [InlineData(0, 20, DatagramKind.Stun)]
    [InlineData(1, 20, DatagramKind.Stun)]
    [InlineData(3, 20, DatagramKind.Stun)]
    [InlineData(0, 19, DatagramKind.Unknown)]
    [InlineData(4, 20, DatagramKind.Unknown)]
    [InlineData(16, 20, DatagramKind.Zrtp)]
    [InlineData(20, 13, DatagramKind.Dtls)]
    [InlineData(22, 13, DatagramKind.Dtls)]
    [InlineData(63, 13, DatagramKind.Dtls)]
    [InlineData(22, 12, DatagramKind.Unknown)]
    [InlineData(64, 4, DatagramKind.TurnChannelData)]
    [InlineData(79, 4, DatagramKind.TurnChannelData)]
    [InlineData(80, 20, DatagramKind.Unknown)]
    [InlineData(127, 20, DatagramKind.Unknown)]
    [InlineData(192, 20, DatagramKind.Unknown)]
    [InlineData(255, 20, DatagramKind.Unknown)]
    public void FirstByteRangesFollowRfc7983(int firstByte, int length, DatagramKind expected)
    {
        var d = new byte[length];
        d[0] = (byte)firstByte;
        Assert.Equal(expected, DatagramDemux.Classify(d));
    }

    [Theory]
    [InlineData(200, DatagramKind.Rtcp)] // SR
    [InlineData(201, DatagramKind.Rtcp)] // RR
    [InlineData(205, DatagramKind.Rtcp)] // RTPFB
    [InlineData(206, DatagramKind.Rtcp)] // PSFB
    [InlineData(207, DatagramKind.Rtcp)] // XR
    [InlineData(96, DatagramKind.Rtp)]
    [InlineData(96 | 0x80, DatagramKind.Rtp)] // marker set
    [InlineData(111, DatagramKind.Rtp)]
    [InlineData(191, DatagramKind.Rtp)]
    public void RtcpIsToldApartFromRtpBySecondByte(int secondByte, DatagramKind expected)
    {
        var d = new byte[12];
        d[0] = 0x80;
        d[1] = (byte)secondByte;
        Assert.Equal(expected, DatagramDemux.Classify(d));
    }

    [Fact]
    public void EmptyAndShortInputIsUnknown()
    {
        Assert.Equal(DatagramKind.Unknown, DatagramDemux.Classify(ReadOnlySpan<byte>.Empty));
        Assert.Equal(DatagramKind.Unknown, DatagramDemux.Classify(new byte[] { 0x80, 96, 0, 1 }));
    }

    [Fact]
    public void EveryDatagramOfTheChromiumCaptureIsClassified()
    {
        var counts = new Dictionary<DatagramKind, int>();
        foreach (var d in PcapReader.ReadUdp(Fixtures.PathOf("chromium156-loopback.pcap")))
        {
            var kind = DatagramDemux.Classify(d.Payload);
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }
        Assert.False(counts.ContainsKey(DatagramKind.Unknown), $"unknown datagrams: {counts.GetValueOrDefault(DatagramKind.Unknown)}");
        Assert.True(counts.GetValueOrDefault(DatagramKind.Stun) > 0);
        Assert.True(counts.GetValueOrDefault(DatagramKind.Dtls) > 0);
        Assert.True(counts.GetValueOrDefault(DatagramKind.Rtp) > 0);
        Assert.True(counts.GetValueOrDefault(DatagramKind.Rtcp) > 0);
    }

    [Fact]
    public void ClassifyAllocatesNothing()
    {
        var d = new byte[100];
        d[0] = 0x80; d[1] = 96;
        DatagramDemux.Classify(d);
        // The fewest bytes of three windows: the runtime's own one-off work (tiering, on-stack
        // replacement on a loaded machine) lands in one window, an allocation per call in all.
        int rtp = 0;
        long fewest = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                d[0] = (byte)i;
                if (DatagramDemux.Classify(d) == DatagramKind.Rtp) rtp++;
            }
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
        Assert.True(rtp > 0);
    }
}
