using Engine.Rtp.Send;
using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Send;

/// <summary>Bad input is counted and dropped, never thrown: random bytes into every send-path entry point.</summary>
public class SendRobustnessTests
{
    [Fact]
    public void RandomBytesNeverThrowAndPayloadsStayWithinTheLimit()
    {
        var random = new Random(42);
        var packetizer = new H264Packetizer(200);
        var stream = new RtpSendStream(new RtpSendStreamOptions { Ssrc = 1, PayloadType = 96, RtxSsrc = 2, RtxPayloadType = 97, HistoryPackets = 64, Seed = 3 },
            new LeavingPacketStamper(2, 3, new SendHistory(64)));
        var rewriter = new RtpForwardRewriter(5, 90_000, random);
        var depacketizer = new H264Depacketizer();
        var buffer = new byte[1500];
        long now = 0, seq = 0;
        int payloads = 0;
        for (int round = 0; round < 3000; round++)
        {
            var data = new byte[random.Next(0, 3000)];
            random.NextBytes(data);
            // Plant start codes so the packetizer finds NAL units of every type.
            for (int k = 0; k + 4 < data.Length; k += random.Next(4, 700))
            {
                data[k] = 0; data[k + 1] = 0; data[k + 2] = 1;
                data[k + 3] = (byte)random.Next(0, 256);
            }
            var cursor = packetizer.Begin(data);
            for (int guard = 0; guard < 1000 && cursor.TryNext(buffer, out int n, out bool marker); guard++)
            {
                Assert.InRange(n, 1, 200);
                depacketizer.Push(buffer.AsSpan(0, n), seq++, (uint)round, marker);
                while (depacketizer.TryPollFrame(out H264Frame _)) { }
                payloads++;
            }
            Assert.True(cursor.IsDone);
            stream.WriteH264(packetizer, data, (uint)round, now);
            stream.HandleRtcp(data, now);
            if (data.Length > 0)
                stream.HandleRtcp(data.AsSpan(0, Math.Min(data.Length, 64) & ~3), now);
            rewriter.Rewrite(data.AsSpan(), now);
            while (stream.TryPollPacket(buffer, now, out _)) { }
            now += 1000;
        }
        Assert.True(payloads > 1000);
        Assert.True(stream.PacketsWritten > 1000);
    }

    [Fact]
    public void AnIdrMissingOnlyItsPpsGetsItsOwnSpsAndTheCachedPps()
    {
        var aus = SendTestData.AccessUnits("baseline-320x240.h264");
        var p = new H264Packetizer();
        var buffer = new byte[p.MaxPayloadSize];
        var first = p.Begin(SendTestData.AnnexB(aus[0]));
        while (first.TryNext(buffer, out _, out _)) { }
        int idr = Enumerable.Range(1, aus.Count - 1).First(i => aus[i].Any(n => (n[0] & 0x1F) == 5));
        var cursor = p.Begin(SendTestData.AnnexB(aus[idr].Where(n => (n[0] & 0x1F) != 8)));
        Assert.True(cursor.TryNext(buffer, out int length, out _));
        var sps = aus[idr].First(n => (n[0] & 0x1F) == 7);
        var pps = aus[0].First(n => (n[0] & 0x1F) == 8);
        byte[] expected = [(byte)(0x18 | (sps[0] & 0x60)), (byte)(sps.Length >> 8), (byte)sps.Length, .. sps, (byte)(pps.Length >> 8), (byte)pps.Length, .. pps];
        Assert.Equal(expected, buffer[..length]);
        Assert.Equal(1, p.ParameterSetsRepeated);
    }
}
