using Xunit;

namespace Engine.Codec.Tests;

public sealed class AvcConfigTests
{
    private static readonly byte[] Sps = [0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01, 0x40];
    private static readonly byte[] Pps = [0x68, 0xCE, 0x3C, 0x80];

    [Fact]
    public void AvcC_IsTheIso14496_15Record()
    {
        var buffer = new byte[64];
        int n = AvcConfig.WriteAvcC(buffer, Sps, Pps);
        Assert.Equal(new byte[] { 1, 0x42, 0xC0, 0x1F, 0xFF, 0xE1, 0, 7, 0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01, 0x40, 1, 0, 4, 0x68, 0xCE, 0x3C, 0x80 }, buffer[..n]);
        Assert.Equal(-1, AvcConfig.WriteAvcC(buffer.AsSpan(0, n - 1), Sps, Pps));
    }

    [Fact]
    public void AnnexB_And_Avcc_RoundTrip_WithThreeAndFourByteStartCodes()
    {
        byte[] annexB = [0, 0, 0, 1, .. Sps, 0, 0, 1, .. Pps, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x10];
        var avcc = new byte[AvcConfig.MaxAvccLength(annexB.Length)];
        int n = AvcConfig.AnnexBToAvcc(annexB, avcc);
        Assert.Equal(4 + Sps.Length + 4 + Pps.Length + 4 + 5, n);
        Assert.True(AvcConfig.TryFindParameterSets(avcc.AsSpan(0, n), out var sps, out var pps));
        Assert.Equal(Sps, avcc[sps]);
        Assert.Equal(Pps, avcc[pps]);
        var back = new byte[n];
        Assert.Equal(n, AvcConfig.AvccToAnnexB(avcc.AsSpan(0, n), back));
        Assert.Equal(new byte[] { 0, 0, 0, 1 }, back[..4]);
        // A length running past the end is refused, not read past.
        avcc[3] = 200;
        Assert.Equal(-1, AvcConfig.AvccToAnnexB(avcc.AsSpan(0, n), back));
    }

    [Theory]
    [InlineData("profile-level-id=42e01f;packetization-mode=1", true)]
    [InlineData("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01f", true)]
    [InlineData("packetization-mode=1;profile-level-id=42001f", false)]
    [InlineData("packetization-mode=1;profile-level-id=4d001f", false)]
    [InlineData("packetization-mode=1;profile-level-id=640c1f", false)]
    [InlineData("packetization-mode=1;profile-level-id=zz", false)]
    [InlineData("packetization-mode=1", true)]
    public void ConstrainedBaseline_FromFmtp(string fmtp, bool cb) => Assert.Equal(cb, AvcConfig.IsConstrainedBaselineFmtp(fmtp));

    [Fact]
    public void ConstrainedBaseline_FromSps()
    {
        Assert.True(AvcConfig.IsConstrainedBaseline(Sps));
        Assert.False(AvcConfig.IsConstrainedBaseline([0x67, 0x42, 0x80, 0x1F]));
        Assert.False(AvcConfig.IsConstrainedBaseline([0x67, 0x4D, 0x40, 0x1F]));
    }
}
