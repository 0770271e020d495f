using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

public class TurnStreamFramingTests
{
    [Fact]
    public void SplitsAStreamOfStunAndPaddedChannelData()
    {
        var txid = new byte[12];
        var stun = new byte[64];
        var w = new StunMessageWriter(stun, StunMethod.Binding, StunClass.Request, txid);
        w.AddFingerprint();
        var first = stun[..w.Length];
        var second = TurnTestClient.ChannelData(0x4001, new byte[] { 1, 2, 3, 4, 5 }, pad: true);
        var stream = first.Concat(second).Concat(first).ToArray();

        var lengths = new List<int>();
        int at = 0;
        for (int guard = 0; guard < 10 && at < stream.Length; guard++)
        {
            int n = TurnStreamFraming.GetFrameLength(stream.AsSpan(at));
            Assert.True(n > 0);
            lengths.Add(n);
            at += n;
        }
        Assert.Equal(new[] { first.Length, 12, first.Length }, lengths);

        // Every strict prefix asks for more.
        for (int cut = 0; cut < first.Length; cut++)
            Assert.Equal(0, TurnStreamFraming.GetFrameLength(first.AsSpan(0, cut)));
        for (int cut = 0; cut < second.Length; cut++)
            Assert.Equal(0, TurnStreamFraming.GetFrameLength(second.AsSpan(0, cut)));
    }

    [Theory]
    [InlineData(new byte[] { 0x50, 0x00, 0x00, 0x04 })]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x04 })]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00 })] // a TLS ClientHello on the plain port
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0x05 })]
    public void NotTurn_IsMinusOne(byte[] bytes) => Assert.Equal(-1, TurnStreamFraming.GetFrameLength(bytes));
}
