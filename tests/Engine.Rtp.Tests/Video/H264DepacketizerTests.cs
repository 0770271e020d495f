using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Video;

public class H264DepacketizerTests
{
    private static List<(uint Ts, bool Key, List<byte[]> Nals)> Run(H264Depacketizer d, IEnumerable<H264TestData.RtpPacket> packets, long seqBase = 0)
    {
        var frames = new List<(uint, bool, List<byte[]>)>();
        foreach (var p in packets)
        {
            d.Push(p.Payload, seqBase + p.Seq, p.Timestamp, p.Marker);
            while (d.TryPollFrame(out var f))
            {
                var nals = new List<byte[]>();
                foreach (var nal in f) nals.Add(nal.ToArray());
                Assert.Equal(f.NalCount, nals.Count);
                frames.Add((f.RtpTimestamp, f.IsKeyframe, nals));
            }
        }
        return frames;
    }

    private static List<H264TestData.RtpPacket> FfmpegPackets() => H264TestData.ReadRtpDump("baseline-320x240.rtp");

    [Fact]
    public void FfmpegsPacketsRebuildTheEncodersNalUnits()
    {
        var packets = FfmpegPackets();
        Assert.Contains(packets, p => (p.Payload[0] & 0x1F) == 28); // FU-A present
        var frames = Run(new H264Depacketizer(), packets, seqBase: 1 << 16);
        Assert.Equal(30, frames.Count);
        Assert.Equal(3, frames.Count(f => f.Key)); // -g 10
        var expected = H264TestData.AnnexBNals(File.ReadAllBytes(H264TestData.PathOf("baseline-320x240.h264")))
            .Where(n => (n[0] & 0x1F) is not 9) // the RTP muxer drops access unit delimiters
            .ToList();
        var actual = frames.SelectMany(f => f.Nals).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"NAL {i} differs");
        // Timestamps rise by 90 kHz / 15 fps.
        for (int i = 1; i < frames.Count; i++)
            Assert.InRange(frames[i].Ts - frames[i - 1].Ts, 5999u, 6001u); // ffmpeg rounds the 90 kHz clock
    }

    [Fact]
    public void AnnexBOutputIsTheEncodersStream()
    {
        var d = new H264Depacketizer();
        using var ms = new MemoryStream();
        var buf = new byte[1 << 20];
        foreach (var p in FfmpegPackets())
        {
            d.Push(p.Payload, p.Seq, p.Timestamp, p.Marker);
            while (d.TryPollFrame(out var f))
            {
                int n = f.WriteAnnexB(buf);
                Assert.Equal(f.AnnexBLength, n);
                ms.Write(buf, 0, n);
            }
        }
        var ours = H264TestData.AnnexBNals(ms.ToArray());
        var theirs = H264TestData.AnnexBNals(File.ReadAllBytes(H264TestData.PathOf("baseline-320x240.h264"))).Where(n => (n[0] & 0x1F) != 9).ToList();
        Assert.Equal(theirs.Count, ours.Count);
    }

    [Fact]
    public void ALostPacketDropsFramesUntilTheNextKeyframe()
    {
        var packets = FfmpegPackets();
        var timestamps = packets.Select(p => p.Timestamp).Distinct().ToList();
        // Lose the 2nd packet of the first delta frame (from the 3rd on) that spans several packets.
        int k = Enumerable.Range(2, 7).First(i => packets.Count(p => p.Timestamp == timestamps[i]) >= 2);
        int victim = packets.FindIndex(p => p.Timestamp == timestamps[k]) + 1;
        var lossy = packets.Where((_, i) => i != victim).ToList();
        var d = new H264Depacketizer();
        var frames = Run(d, lossy);
        // Frames before k survive; k..9 are gone; the keyframe at 10 restarts the output.
        Assert.Equal(timestamps.Take(k), frames.Take(k).Select(f => f.Ts));
        Assert.Equal(timestamps[10], frames[k].Ts);
        Assert.True(frames[k].Key);
        Assert.Equal(30 - (10 - k), frames.Count);
        // When the lost packet was frame k's last, frame k+1 also counts as incomplete: the gap
        // could hold its first packets too.
        Assert.InRange(d.DropCount(VideoDropReason.IncompleteFrame), 1, 2);
        Assert.Equal(10 - k, d.DropCount(VideoDropReason.IncompleteFrame) + d.DropCount(VideoDropReason.WaitingForKeyframe));
        Assert.False(d.WaitingForKeyframe);
    }

    [Fact]
    public void OutputStartsAtAKeyframe()
    {
        var packets = FfmpegPackets();
        var firstKeyTs = packets.Select(p => p.Timestamp).Distinct().ElementAt(10);
        var late = packets.SkipWhile(p => p.Timestamp != packets.Select(q => q.Timestamp).Distinct().ElementAt(3)).ToList();
        var d = new H264Depacketizer();
        Assert.True(d.WaitingForKeyframe);
        var frames = Run(d, late);
        Assert.Equal(firstKeyTs, frames[0].Ts);
        Assert.True(frames[0].Key);
    }

    [Fact]
    public void StapAAndFuAFromTheRfcLayout()
    {
        var sps = new byte[] { 0x67, 0x42, 0xC0, 0x1E, 0xAA };
        var pps = new byte[] { 0x68, 0xCE, 0x3C, 0x80 };
        var idr = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();
        idr[0] = 0x65;
        // RFC 6184 §5.7.1 STAP-A: 0x18 | NRI, then size/NAL pairs.
        var stap = new List<byte> { 0x78 };
        foreach (var nal in new[] { sps, pps }) { stap.Add((byte)(nal.Length >> 8)); stap.Add((byte)nal.Length); stap.AddRange(nal); }
        var d = new H264Depacketizer();
        d.Push(stap.ToArray(), 1, 9000, marker: false);
        // RFC 6184 §5.8 FU-A: indicator (NRI from the NAL, type 28), header (S/E + type 5).
        int seq = 2;
        for (int off = 1; off < idr.Length; off += 1000)
        {
            int len = Math.Min(1000, idr.Length - off);
            bool start = off == 1, end = off + len == idr.Length;
            var fu = new byte[2 + len];
            fu[0] = (byte)((idr[0] & 0xE0) | 28);
            fu[1] = (byte)((start ? 0x80 : 0) | (end ? 0x40 : 0) | 5);
            idr.AsSpan(off, len).CopyTo(fu.AsSpan(2));
            d.Push(fu, seq++, 9000, marker: end);
        }
        Assert.True(d.TryPollFrame(out var f));
        Assert.True(f.IsKeyframe);
        Assert.Equal(3, f.NalCount);
        var e = f.GetEnumerator();
        Assert.True(e.MoveNext()); Assert.True(e.Current.SequenceEqual(sps));
        Assert.True(e.MoveNext()); Assert.True(e.Current.SequenceEqual(pps));
        Assert.True(e.MoveNext()); Assert.True(e.Current.SequenceEqual(idr));
        Assert.False(d.TryPollFrame(out _));
    }

    [Fact]
    public void AMissingMarkerIsCaughtByTheNextTimestamp()
    {
        var d = new H264Depacketizer(startOnKeyframe: false);
        d.Push(H264TestData.ParameterSetsStapA(), 0, 100, marker: false); // an IDR without any SPS/PPS is not delivered
        d.Push(new byte[] { 0x65, 1, 2 }, 1, 100, marker: true);
        d.Push(new byte[] { 0x41, 1, 2 }, 2, 200, marker: false); // its marker packet was lost (no gap: the sender skipped it)
        d.Push(new byte[] { 0x41, 3, 4 }, 3, 300, marker: true);
        Assert.True(d.TryPollFrame(out var f1));
        Assert.Equal(100u, f1.RtpTimestamp);
        Assert.False(d.TryPollFrame(out _)); // 200 is incomplete, and 300 depends on it
        Assert.Equal(1, d.DropCount(VideoDropReason.IncompleteFrame));
        Assert.True(d.WaitingForKeyframe);
    }

    [Fact]
    public void PaddingOnlyPacketsBetweenFramesBreakNothing()
    {
        // Bandwidth probes: no payload, the previous frame's timestamp, no marker (as libwebrtc sends them).
        var d = new H264Depacketizer(startOnKeyframe: false);
        d.Push(H264TestData.ParameterSetsStapA(), 0, 100, marker: false);
        d.Push(new byte[] { 0x65, 1 }, 1, 100, marker: true);
        d.Push(ReadOnlySpan<byte>.Empty, 2, 100, marker: false);
        d.Push(ReadOnlySpan<byte>.Empty, 3, 100, marker: false);
        d.Push(new byte[] { 0x41, 2 }, 4, 200, marker: false);
        d.Push(ReadOnlySpan<byte>.Empty, 5, 100, marker: false); // a probe in the middle of a frame
        d.Push(new byte[] { 0x41, 3 }, 6, 200, marker: true);
        Assert.True(d.TryPollFrame(out var f1));
        Assert.Equal(100u, f1.RtpTimestamp);
        Assert.True(d.TryPollFrame(out var f2));
        Assert.Equal(200u, f2.RtpTimestamp);
        Assert.Equal(2, f2.NalCount);
        Assert.Equal(0, d.DropCount(VideoDropReason.IncompleteFrame));
        // A lost probe is still a gap: a frame whose slice header cannot be read (these are not real
        // slices) falls back to sequence continuity and cannot be trusted.
        d.Push(ReadOnlySpan<byte>.Empty, 8, 200, marker: false);
        d.Push(new byte[] { 0x41, 4 }, 9, 300, marker: true);
        Assert.False(d.TryPollFrame(out _));
        Assert.Equal(1, d.DropCount(VideoDropReason.IncompleteFrame));
    }

    [Theory]
    [InlineData(new byte[] { 0x85, 0 })] // forbidden_zero_bit
    [InlineData(new byte[] { 0x78, 0x00 })] // STAP-A with a truncated size
    [InlineData(new byte[] { 0x78, 0x00, 0x09, 0x67 })] // STAP-A size past the end
    [InlineData(new byte[] { 0x78, 0x00, 0x00 })] // STAP-A zero size
    [InlineData(new byte[] { 0x7C, 0x85 })] // FU-A without fragment bytes
    [InlineData(new byte[] { 0x79, 0, 1, 2 })] // STAP-B: interleaved mode
    [InlineData(new byte[] { 0x7D, 0x85, 1 })] // FU-B
    public void MalformedPayloadsAreCountedAndBreakTheFrame(byte[] payload)
    {
        var d = new H264Depacketizer(startOnKeyframe: false);
        d.Push(new byte[] { 0x65, 1 }, 1, 100, marker: false);
        d.Push(payload, 2, 100, marker: true);
        Assert.False(d.TryPollFrame(out _));
        Assert.True(d.DropCount(VideoDropReason.Malformed) + d.DropCount(VideoDropReason.UnsupportedPacketization) >= 1);
        Assert.Equal(1, d.DropCount(VideoDropReason.IncompleteFrame));
    }

    [Fact]
    public void AnFuAWithoutItsStartBreaksTheFrame()
    {
        var d = new H264Depacketizer(startOnKeyframe: false);
        d.Push(new byte[] { 0x7C, 0x05, 1, 2 }, 1, 100, marker: false); // middle fragment first
        d.Push(new byte[] { 0x7C, 0x45, 3, 4 }, 2, 100, marker: true);
        Assert.False(d.TryPollFrame(out _));
        Assert.Equal(1, d.DropCount(VideoDropReason.IncompleteFrame));
    }

    [Fact]
    public void AnOversizedFrameIsDroppedAndCounted()
    {
        var d = new H264Depacketizer(maxFrameBytes: 4096, startOnKeyframe: false);
        var big = new byte[1200];
        big[0] = 0x65;
        for (int i = 0; i < 5; i++)
            d.Push(big, i, 100, marker: i == 4);
        Assert.False(d.TryPollFrame(out _));
        Assert.Equal(1, d.DropCount(VideoDropReason.FrameTooLarge));
        d.Push(H264TestData.ParameterSetsStapA(), 5, 200, marker: false);
        d.Push(big, 6, 200, marker: true);
        Assert.True(d.TryPollFrame(out var f));
        Assert.Equal(200u, f.RtpTimestamp);
    }

    [Fact]
    public void RandomPayloadsNeverThrowAndFramesStayWellFormed()
    {
        var rng = new Random(5);
        var d = new H264Depacketizer(maxFrameBytes: 64 * 1024, startOnKeyframe: false);
        var buf = new byte[1500];
        uint ts = 0;
        for (int i = 0; i < 50_000; i++)
        {
            rng.NextBytes(buf);
            if (rng.Next(10) == 0) ts += 3000;
            d.Push(buf.AsSpan(0, rng.Next(0, buf.Length)), i + (rng.Next(20) == 0 ? 1 : 0), ts, rng.Next(4) == 0);
            while (d.TryPollFrame(out var f))
            {
                int n = 0, bytes = 0;
                foreach (var nal in f) { n++; bytes += 4 + nal.Length; }
                Assert.Equal(f.NalCount, n);
                Assert.Equal(f.Avcc.Length, bytes);
            }
        }
    }

    [Fact]
    public void SteadyStateAllocatesNothing()
    {
        var packets = FfmpegPackets();
        var d = new H264Depacketizer();
        long seq = 0;
        uint pass = 0;
        void Feed()
        {
            pass++;
            foreach (var p in packets)
            {
                d.Push(p.Payload, seq++, p.Timestamp + pass * 1_000_000, p.Marker);
                while (d.TryPollFrame(out _)) { }
            }
        }
        Feed(); // buffers grow to the largest frame once
        long before = GC.GetAllocatedBytesForCurrentThread();
        Feed();
        Feed();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(d.FramesCompleted > 0);
    }
}
