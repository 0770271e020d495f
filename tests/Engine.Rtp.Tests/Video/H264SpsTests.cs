using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Video;

public class H264SpsTests
{
    // Expected values as ffprobe reported them for the files make.sh wrote.
    [Theory]
    [InlineData("baseline-320x240.h264", 66, true, 320, 240, true)]
    [InlineData("main-640x360.h264", 77, false, 640, 360, true)]
    [InlineData("high-200x120.h264", 100, false, 200, 120, true)]
    [InlineData("high444-64x48.h264", 244, false, 64, 48, true)]
    [InlineData("interlaced-320x240.h264", 100, false, 320, 240, false)]
    public void TheSizeAndProfileMatchFfprobe(string file, int profile, bool constrainedBaseline, int width, int height, bool progressive)
    {
        Assert.True(H264Sps.TryParse(H264TestData.FirstSps(file), out var sps));
        Assert.Equal(profile, sps.ProfileIdc);
        Assert.Equal(constrainedBaseline, sps.IsConstrainedBaseline);
        Assert.Equal(width, sps.Width);
        Assert.Equal(height, sps.Height);
        Assert.Equal(progressive, sps.FrameMbsOnly);
    }

    [Fact]
    public void ProfileLevelIdHasTheSdpForm()
    {
        Assert.True(H264Sps.TryParse(H264TestData.FirstSps("baseline-320x240.h264"), out var sps));
        Assert.Matches("^42[cCeE]0[0-9a-f]{2}$", sps.ProfileLevelId);
    }

    [Fact]
    public void EmulationPreventionBytesAreSkipped()
    {
        // SPS for 1920x1080 with crop, hand-built with an emulation prevention byte inserted
        // (00 00 03 01 in the stream stands for 00 00 01 in the RBSP).
        var rbsp = BuildSps(widthMbs: 120, heightMbs: 68, cropBottom: 4);
        var escaped = Escape(rbsp);
        Assert.True(escaped.Length > rbsp.Length, "the test SPS must need escaping");
        Assert.True(H264Sps.TryParse(escaped, out var sps));
        Assert.Equal(1920, sps.Width);
        Assert.Equal(1080, sps.Height);
    }

    [Fact]
    public void TruncatedAndRandomSpsFailWithoutThrowing()
    {
        var sps = H264TestData.FirstSps("high-200x120.h264");
        for (int len = 0; len < sps.Length - 1; len++)
            H264Sps.TryParse(sps.AsSpan(0, len), out _); // any answer, no exception
        Assert.False(H264Sps.TryParse(sps.AsSpan(0, 5), out _));
        var rng = new Random(3);
        var buf = new byte[64];
        for (int i = 0; i < 20_000; i++)
        {
            rng.NextBytes(buf);
            buf[0] = 0x67;
            if (H264Sps.TryParse(buf.AsSpan(0, rng.Next(1, buf.Length)), out var s))
                Assert.True(s.Width > 0 && s.Height > 0 && s.Width <= 16384 && s.Height <= 32768);
        }
    }

    [Fact]
    public void ParsingAllocatesNothing()
    {
        var sps = H264TestData.FirstSps("high-200x120.h264");
        H264Sps.TryParse(sps, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            H264Sps.TryParse(sps, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static byte[] BuildSps(int widthMbs, int heightMbs, int cropBottom)
    {
        var bits = new List<int>();
        void Bits(uint v, int n) { for (int i = n - 1; i >= 0; i--) bits.Add((int)(v >> i) & 1); }
        void Ue(uint v) { uint x = v + 1; int n = 32 - System.Numerics.BitOperations.LeadingZeroCount(x); Bits(0, n - 1); Bits(x, n); }
        Bits(0x67, 8); Bits(66, 8); Bits(0xC0, 8); Bits(40, 8);
        // pic_order_cnt_type 1 with offset_for_non_ref_pic = 2^23: its ue(v) code is 24 zero bits, a one,
        // 24 zero bits, so the RBSP holds 00 00 0x runs that must be escaped on the wire.
        Ue(0); Ue(0); Ue(1); Bits(0, 1); Ue((1u << 24) - 1); Ue(0); Ue(0); Ue(1); Bits(0, 1);
        Ue((uint)widthMbs - 1); Ue((uint)heightMbs - 1); Bits(1, 1); Bits(1, 1);
        Bits(1, 1); Ue(0); Ue(0); Ue(0); Ue((uint)cropBottom);
        Bits(0, 1); Bits(1, 1); // no VUI, rbsp_stop_one_bit
        while (bits.Count % 8 != 0) bits.Add(0);
        var bytes = new byte[bits.Count / 8];
        for (int i = 0; i < bits.Count; i++) bytes[i / 8] |= (byte)(bits[i] << (7 - i % 8));
        return bytes;
    }

    private static byte[] Escape(byte[] rbsp)
    {
        // H.264 §7.4.1: after two zero bytes, a byte <= 3 gets 0x03 in front of it.
        var o = new List<byte>();
        int zeros = 0;
        foreach (var b in rbsp)
        {
            if (zeros >= 2 && b <= 3) { o.Add(3); zeros = 0; }
            o.Add(b);
            zeros = b == 0 ? zeros + 1 : 0;
        }
        return o.ToArray();
    }
}
