using Engine.Rtp.Send;
using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Send;

public class H264PacketizerTests
{
    private sealed record Payload(byte[] Data, bool Marker, uint Timestamp);

    private static List<Payload> Packetize(H264Packetizer p, List<List<byte[]>> aus)
    {
        var list = new List<Payload>();
        var buffer = new byte[p.MaxPayloadSize];
        for (int i = 0; i < aus.Count; i++)
        {
            var cursor = p.Begin(SendTestData.AnnexB(aus[i]));
            while (cursor.TryNext(buffer, out int n, out bool marker))
                list.Add(new Payload(buffer[..n], marker, (uint)(i * 6000)));
            Assert.True(cursor.IsDone);
        }
        return list;
    }

    private static List<List<byte[]>> Depacketize(List<Payload> payloads)
    {
        var d = new H264Depacketizer();
        var frames = new List<List<byte[]>>();
        long seq = 1000;
        foreach (var p in payloads)
        {
            d.Push(p.Data, seq++, p.Timestamp, p.Marker);
            while (d.TryPollFrame(out var f))
            {
                var nals = new List<byte[]>();
                foreach (var nal in f) nals.Add(nal.ToArray());
                frames.Add(nals);
            }
        }
        Assert.Equal(0, d.DropCount(VideoDropReason.Malformed));
        return frames;
    }

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var f in SendTestData.H264Files)
        {
            data.Add(f, H264Packetizer.DefaultMaxPayloadSize);
            data.Add(f, 100); // forces FU-A on most slices
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OurDepacketizerGetsBackEveryAccessUnitNalForNal(string file, int maxPayload)
    {
        var aus = SendTestData.AccessUnits(file);
        Assert.True(aus.Count >= 15);
        var p = new H264Packetizer(maxPayload);
        var payloads = Packetize(p, aus);
        Assert.All(payloads, x => Assert.InRange(x.Data.Length, 1, maxPayload));
        Assert.Equal(aus.Count, payloads.Count(x => x.Marker));
        // The marker sits on the last packet of each timestamp.
        for (int i = 0; i < payloads.Count; i++)
            Assert.Equal(i == payloads.Count - 1 || payloads[i + 1].Timestamp != payloads[i].Timestamp, payloads[i].Marker);
        var frames = Depacketize(payloads);
        Assert.Equal(aus.Count, frames.Count);
        for (int i = 0; i < aus.Count; i++)
        {
            Assert.Equal(aus[i].Count, frames[i].Count);
            for (int k = 0; k < aus[i].Count; k++)
                Assert.True(aus[i][k].AsSpan().SequenceEqual(frames[i][k]), $"{file} AU {i} NAL {k} differs");
        }
        if (maxPayload == 100)
            Assert.Contains(payloads, x => (x.Data[0] & 0x1F) == 28);
        // Every IDR access unit opens with a STAP-A holding SPS then PPS (RFC 6184 §5.7.1).
        int idrs = aus.Count(a => a.Any(n => (n[0] & 0x1F) == 5));
        var firsts = payloads.Where((x, i) => i == 0 || payloads[i - 1].Marker).ToList();
        Assert.Equal(idrs, firsts.Count(x => (x.Data[0] & 0x1F) == 24 && (x.Data[3] & 0x1F) == 7));
        Assert.Equal(0, p.ParameterSetsRepeated);
    }

    [Fact]
    public void AnIdrWithoutSpsAndPpsGetsTheCachedOnes()
    {
        var aus = SendTestData.AccessUnits("baseline-320x240.h264");
        var idrIndexes = Enumerable.Range(0, aus.Count).Where(i => aus[i].Any(n => (n[0] & 0x1F) == 5)).ToList();
        Assert.Equal(3, idrIndexes.Count);
        var stripped = aus.Select((a, i) => i == idrIndexes[0] ? a : a.Where(n => (n[0] & 0x1F) is not (7 or 8)).ToList()).ToList();
        var p = new H264Packetizer();
        var frames = Depacketize(Packetize(p, stripped));
        Assert.Equal(2, p.ParameterSetsRepeated);
        Assert.Equal(aus.Count, frames.Count);
        foreach (int i in idrIndexes)
        {
            // The original AU had SPS, PPS, (SEI), IDR: the repeated ones come back in the same place.
            Assert.Equal(aus[i].Count, frames[i].Count);
            for (int k = 0; k < aus[i].Count; k++)
                Assert.True(aus[i][k].AsSpan().SequenceEqual(frames[i][k]), $"AU {i} NAL {k}");
        }
    }

    [Fact]
    public void AnIdrBeforeAnySpsIsCountedAndSentAsIs()
    {
        var aus = SendTestData.AccessUnits("baseline-320x240.h264");
        var p = new H264Packetizer();
        var idr = aus[0].Where(n => (n[0] & 0x1F) == 5).ToList();
        var payloads = Packetize(p, [idr]);
        Assert.Equal(1, p.IdrWithoutParameterSets);
        Assert.DoesNotContain(payloads, x => (x.Data[0] & 0x1F) == 24);
        Assert.Equal(1, payloads.Count(x => x.Marker));
    }

    [Fact]
    public void AccessUnitDelimitersAndJunkBeforeTheFirstStartCodeAreDropped()
    {
        byte[] slice = [0x41, 0x9A, 0x01, 0x02, 0x03];
        byte[] au = [0xFF, 0xEE, 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, .. slice, 0, 0]; // trailing zeros too
        var p = new H264Packetizer();
        var cursor = p.Begin(au);
        var buffer = new byte[p.MaxPayloadSize];
        Assert.True(cursor.TryNext(buffer, out int n, out bool marker));
        Assert.True(marker);
        Assert.Equal(slice, buffer[..n]);
        Assert.False(cursor.TryNext(buffer, out _, out _));
        // Nothing at all: no payload.
        Assert.False(p.Begin([1, 2, 3]).TryNext(buffer, out _, out _));
    }

    [Fact]
    public void FuAFragmentsCarryStartEndAndTheNalHeader()
    {
        var nal = new byte[1000];
        nal[0] = 0x65; // NRI 3, IDR
        for (int i = 1; i < nal.Length; i++) nal[i] = (byte)(i * 7 + 1);
        var p = new H264Packetizer(300);
        var payloads = Packetize(p, [[nal]]);
        Assert.Equal(4, payloads.Count); // 999 bytes after the header in chunks of 298
        Assert.All(payloads, x => Assert.Equal(0x60 | 28, x.Data[0]));
        Assert.Equal(0x80 | 5, payloads[0].Data[1]);
        Assert.Equal(5, payloads[1].Data[1]);
        Assert.Equal(0x40 | 5, payloads[3].Data[1]);
        Assert.Equal(nal[1..], payloads.SelectMany(x => x.Data[2..]).ToArray());
    }
}
