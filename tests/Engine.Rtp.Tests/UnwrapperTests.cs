using Engine.Rtp;

namespace Engine.Rtp.Tests;

public class UnwrapperTests
{
    [Fact]
    public void SeqNo_CountsUpAcrossWraps()
    {
        var u = new SeqNoUnwrapper();
        Assert.Equal(-1, u.Highest);
        Assert.Equal(65534, u.Unwrap(65534));
        Assert.Equal(65535, u.Unwrap(65535));
        Assert.Equal(65536, u.Unwrap(0));
        Assert.Equal(65537, u.Unwrap(1));
        long expected = 65537;
        for (int i = 0; i < 5 * 65536; i += 1000)
        {
            expected += 1000;
            Assert.Equal(expected, u.Unwrap((ushort)expected));
        }
    }

    [Fact]
    public void SeqNo_ReorderingAroundTheWrapLandsOnTheRightCycle()
    {
        var u = new SeqNoUnwrapper();
        Assert.Equal(65530, u.Unwrap(65530));
        Assert.Equal(65538, u.Unwrap(2));      // jumped ahead past the wrap
        Assert.Equal(65533, u.Unwrap(65533));  // late packet from before the wrap
        Assert.Equal(65536, u.Unwrap(0));
        Assert.Equal(65538, u.Highest);
    }

    [Fact]
    public void SeqNo_EarlierThanFirstGoesNegative()
    {
        var u = new SeqNoUnwrapper();
        Assert.Equal(3, u.Unwrap(3));
        Assert.Equal(-2, u.Unwrap(65534));
    }

    [Fact]
    public void SeqNo_MatchesAReferenceModelOnRandomReorderedStreams()
    {
        var rng = new Random(1234);
        for (int trial = 0; trial < 50; trial++)
        {
            var u = new SeqNoUnwrapper();
            long truth = rng.NextInt64(0, 1L << 20);
            long highest = truth;
            long offset = truth - u.Unwrap((ushort)truth); // the first value is returned as is, so only differences matter
            for (int i = 0; i < 2000; i++)
            {
                long next = highest + rng.Next(-300, 1000); // reorder back up to 300, jump up to 1000
                highest = Math.Max(highest, next);
                Assert.Equal(next, u.Unwrap((ushort)next) + offset);
            }
        }
    }

    [Fact]
    public void RtpTimestamp_WrapsAndReorders()
    {
        var u = new RtpTimestampUnwrapper();
        Assert.Equal(0xffff_ff00L, u.Unwrap(0xffff_ff00));
        Assert.Equal(0x1_0000_0100L, u.Unwrap(0x100));
        Assert.Equal(0xffff_ff80L, u.Unwrap(0xffff_ff80)); // B-frame style reordering
        Assert.Equal(0x1_0000_3000L, u.Unwrap(0x3000));
        long t = 0x1_0000_3000L;
        for (int i = 0; i < 100; i++)
        {
            t += 90_000_000; // 1000 s at 90 kHz per step, still under 2^31
            Assert.Equal(t, u.Unwrap((uint)t));
        }
    }
}
