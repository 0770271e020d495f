using Engine.Rtp.Send;

namespace Engine.Rtp.Tests.Send;

public class OpusPacketizerTests
{
    [Theory]
    [InlineData(0x78, 960)] // config 15: hybrid FB 20 ms, code 0
    [InlineData(0xF8, 960)] // config 31: CELT FB 20 ms
    [InlineData(0xE0, 120)] // config 28: CELT FB 2.5 ms
    [InlineData(0x08, 960)] // config 1: SILK NB 20 ms
    [InlineData(0x18, 2880)] // config 3: SILK NB 60 ms
    [InlineData(0xF9, 1920)] // code 1: two 20 ms frames
    public void SamplesFollowTheToc(byte toc, int samples) => Assert.Equal(samples, OpusPacketizer.GetSamples([toc, 0, 0]));

    [Fact]
    public void CodeThreeReadsTheFrameCountAndCapsAt120Ms()
    {
        Assert.Equal(3 * 960, OpusPacketizer.GetSamples([0xFB, 3]));
        Assert.Equal(0, OpusPacketizer.GetSamples([0xFB, 7])); // 140 ms: invalid (RFC 6716 §3.2.5)
        Assert.Equal(0, OpusPacketizer.GetSamples([0xFB]));
        Assert.Equal(0, OpusPacketizer.GetSamples([]));
    }

    [Fact]
    public void OnePacketPerFrameUnchanged()
    {
        byte[] frame = [0x78, 1, 2, 3, 4];
        var dst = new byte[10];
        Assert.Equal(5, OpusPacketizer.Write(frame, dst));
        Assert.Equal(frame, dst[..5]);
        Assert.Equal(0, OpusPacketizer.Write(frame, new byte[4]));
        Assert.Equal(0, OpusPacketizer.Write([], dst));
    }
}
