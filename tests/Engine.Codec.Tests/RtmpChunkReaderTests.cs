using Engine.Codec.Rtmp;
using Xunit;

namespace Engine.Codec.Tests;

public class RtmpChunkReaderTests
{
    private static RtmpChunkReader NewReader(int streams = 4, int maxMessage = 65536) => new(streams, maxMessage, 65536, 1 << 20);

    private record struct Got(RtmpChunkResult Result, int Consumed, byte Type, uint StreamId, uint Timestamp, byte[] Payload);

    private static Got ReadOne(RtmpChunkReader r, ReadOnlySpan<byte> s)
    {
        var result = r.Read(s, out int consumed, out var m);
        return new Got(result, consumed, m.Type, m.StreamId, m.Timestamp, m.Payload.ToArray());
    }

    // Reads every chunk of the input; the messages in order.
    private static List<Got> ReadAll(RtmpChunkReader r, byte[] input)
    {
        var messages = new List<Got>();
        int at = 0;
        for (int guard = 0; guard < 10_000; guard++)
        {
            var g = ReadOne(r, input.AsSpan(at));
            at += g.Consumed;
            if (g.Result == RtmpChunkResult.Message)
                messages.Add(g);
            else if (g.Result is RtmpChunkResult.NeedMore or RtmpChunkResult.Failed)
                break;
        }
        Assert.Equal(input.Length, at);
        return messages;
    }

    private static byte[] Fmt0(int csid, uint ts, int length, byte type, uint streamId, bool ext = false) =>
    [
        (byte)csid,
        (byte)((ext ? 0xFFFFFF : ts) >> 16), (byte)((ext ? 0xFFFFFF : ts) >> 8), (byte)(ext ? 0xFFFFFF : ts),
        (byte)(length >> 16), (byte)(length >> 8), (byte)length, type,
        (byte)streamId, (byte)(streamId >> 8), (byte)(streamId >> 16), (byte)(streamId >> 24),
        .. ext ? Be32(ts) : [],
    ];

    private static byte[] Be32(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    [Fact]
    public void Formats0To3CarryTimeDeltasLengthAndType()
    {
        var r = NewReader();
        byte[] input =
        [
            .. Fmt0(4, 1000, 2, 8, 1), 0xAF, 1,
            // fmt 1: delta 20, new length 3 and type 9 (same stream id)
            0x44, 0, 0, 20, 0, 0, 3, 9, 1, 2, 3,
            // fmt 2: delta 5, length and type kept
            0x84, 0, 0, 5, 4, 5, 6,
            // fmt 3: everything kept, the last delta again
            0xC4, 7, 8, 9,
        ];
        var m = ReadAll(r, input);
        Assert.Equal([(8, 1u, 1000u), (9, 1u, 1020u), (9, 1u, 1025u), (9, 1u, 1030u)],
            m.Select(x => ((int)x.Type, x.StreamId, x.Timestamp)).ToArray());
        Assert.Equal([7, 8, 9], m[3].Payload);
        Assert.Equal(4, r.Messages);
    }

    [Fact]
    public void TwoAndThreeByteBasicHeaders()
    {
        var r = NewReader();
        var a = Fmt0(0, 1, 1, 8, 1); // csid 0: one more byte, 64 + it
        byte[] twoByte = [0x00, 10, .. a[1..], 0x55];
        byte[] threeByte = [0x01, 1, 2, .. a[1..], 0x66]; // 64 + 1 + 2 * 256
        var m = ReadAll(r, [.. twoByte, .. threeByte, 0xC0, 10, 0x77]);
        Assert.Equal(3, m.Count);
        Assert.Equal([0x55], m[0].Payload);
        Assert.Equal([0x66], m[1].Payload);
        Assert.Equal([0x77], m[2].Payload); // fmt 3 on csid 74 found its stream
        Assert.Equal(2, r.ChunkStreams);
    }

    [Fact]
    public void ExtendedTimestampRepeatsOnType3Chunks()
    {
        var r = NewReader();
        byte[] body = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        uint ts = 0x1234_5678;
        // 200 bytes at chunk size 128: fmt 0 + ext, then a fmt 3 chunk that repeats the ext field.
        byte[] input = [.. Fmt0(5, ts, 200, 9, 1, ext: true), .. body[..128], 0xC5, .. Be32(ts), .. body[128..]];
        var m = Assert.Single(ReadAll(r, input));
        Assert.Equal(ts, m.Timestamp);
        Assert.Equal(body, m.Payload);
        // A type 3 chunk starting the next message also carries it, and adds the delta (0 after fmt 0).
        var next = Assert.Single(ReadAll(r, [0xC5, .. Be32(ts), .. body[..128], 0xC5, .. Be32(ts), .. body[128..]]));
        Assert.Equal(ts, next.Timestamp);
        Assert.Equal(body, next.Payload);
    }

    [Fact]
    public void InterleavedChunkStreamsAssembleSeparately()
    {
        var r = NewReader();
        byte[] a = Enumerable.Repeat((byte)0xA, 300).ToArray(), v = Enumerable.Repeat((byte)0xB, 200).ToArray();
        byte[] input =
        [
            .. Fmt0(4, 10, 300, 8, 1), .. a[..128],
            .. Fmt0(6, 11, 200, 9, 1), .. v[..128],
            0xC4, .. a[128..256],
            0xC6, .. v[128..],
            0xC4, .. a[256..],
        ];
        var m = ReadAll(r, input);
        Assert.Equal([(9, 11u), (8, 10u)], m.Select(x => ((int)x.Type, x.Timestamp)).ToArray());
        Assert.Equal(v, m[0].Payload);
        Assert.Equal(a, m[1].Payload);
    }

    [Fact]
    public void SetChunkSizeAndAbortApplyThemselves()
    {
        var r = NewReader();
        var m = ReadAll(r, [.. Fmt0(2, 0, 4, 1, 0), .. Be32(300)]);
        Assert.Equal(1, Assert.Single(m).Type);
        Assert.Equal(300, r.ChunkSize);
        // A message cut short by an abort for its chunk stream; the next one starts clean.
        byte[] body = new byte[400];
        Assert.Empty(ReadAll(r, [.. Fmt0(4, 0, 400, 8, 1), .. body[..300]]));
        Assert.Single(ReadAll(r, [.. Fmt0(2, 0, 4, 2, 0), .. Be32(4)]));
        Assert.Equal(new byte[] { 1, 2 }, Assert.Single(ReadAll(r, [.. Fmt0(4, 0, 2, 8, 1), 1, 2])).Payload);
    }

    [Fact]
    public void PartialInputConsumesNothing()
    {
        var r = NewReader();
        byte[] input = [.. Fmt0(4, 3, 5, 8, 1, ext: true), 1, 2, 3, 4, 5];
        for (int n = 0; n < input.Length; n++)
        {
            var g = ReadOne(r, input.AsSpan(0, n));
            Assert.Equal((RtmpChunkResult.NeedMore, 0), (g.Result, g.Consumed));
        }
        Assert.Equal(RtmpChunkResult.Message, ReadOne(r, input).Result);
    }

    [Theory]
    [InlineData("too many chunk streams", "RTMP: too many chunk streams from the server")]
    [InlineData("no full header", "RTMP: a chunk stream started without a full header")]
    [InlineData("header inside", "RTMP: a new message header inside a message")]
    [InlineData("too long", "RTMP: a server message of 65537 bytes (limit 65536)")]
    [InlineData("chunk size 0", "RTMP: server chunk size 0 (limit 65536)")]
    [InlineData("chunk size big", "RTMP: server chunk size 65537 (limit 65536)")]
    public void BadInputFailsWithAReasonAndStaysFailed(string what, string error)
    {
        var r = NewReader(streams: 2);
        byte[] input = what switch
        {
            "too many chunk streams" => [.. Fmt0(3, 0, 1, 8, 1), 0, .. Fmt0(4, 0, 1, 8, 1), 0, .. Fmt0(5, 0, 1, 8, 1), 0],
            "no full header" => [0x43, 0, 0, 0, 0, 0, 1, 8, 0],
            "header inside" => [.. Fmt0(4, 0, 200, 8, 1), .. new byte[128], 0x84, 0, 0, 1],
            "too long" => Fmt0(4, 0, 65537, 8, 1),
            "chunk size 0" => [.. Fmt0(2, 0, 4, 1, 0), 0, 0, 0, 0],
            _ => [.. Fmt0(2, 0, 4, 1, 0), .. Be32(65537)],
        };
        int at = 0;
        RtmpChunkResult result = RtmpChunkResult.Chunk;
        for (int guard = 0; guard < 100 && result != RtmpChunkResult.Failed; guard++)
        {
            result = r.Read(input.AsSpan(at), out int consumed, out _);
            Assert.NotEqual(RtmpChunkResult.NeedMore, result);
            at += consumed;
        }
        Assert.Equal(RtmpChunkResult.Failed, result);
        Assert.True(r.HasFailed);
        Assert.Equal(error, r.Error);
        Assert.Equal(RtmpChunkResult.Failed, r.Read(Fmt0(4, 0, 0, 8, 1), out int after, out _));
        Assert.Equal(0, after);
    }

    [Fact]
    public void BufferBudgetBindsOnArrivedBytesNotClaimedLengths()
    {
        var r = new RtmpChunkReader(4, 1 << 20, 65536, 1 << 20);
        // Two streams claim 1 MB each: nothing is held until bytes arrive.
        Assert.Equal(RtmpChunkResult.NeedMore, r.Read(Fmt0(4, 0, 1 << 20, 8, 1), out _, out _));
        Assert.Equal(0, r.BufferedBytes);
        var big = new byte[65536];
        byte[] size = [.. Fmt0(2, 0, 4, 1, 0), .. Be32(65536)];
        Assert.Single(ReadAll(r, size));
        int at = 0;
        byte[] input = [.. Fmt0(4, 0, 1 << 20, 8, 1), .. big, .. Fmt0(6, 0, 1 << 20, 9, 1), .. big];
        for (int i = 0; i < 40; i++)
        {
            // Alternate fmt 3 chunks on both streams until the budget (1 MB in all) is spent.
            if (i > 0)
                input = [0xC4, .. big, 0xC6, .. big];
            at = 0;
            while (at < input.Length && !r.HasFailed)
            {
                r.Read(input.AsSpan(at), out int consumed, out _);
                at += consumed;
            }
            if (r.HasFailed)
                break;
        }
        Assert.Equal("RTMP: server messages in progress over 1 MB", r.Error);
        Assert.True(r.BufferedBytes <= 1 << 20);
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var rng = new Random(7);
        var input = new byte[4096];
        for (int round = 0; round < 500; round++)
        {
            var r = new RtmpChunkReader(4, 4096, 4096, 16384);
            rng.NextBytes(input);
            int at = 0;
            for (int guard = 0; guard < 5000 && at < input.Length; guard++)
            {
                var result = r.Read(input.AsSpan(at), out int consumed, out _);
                at += consumed;
                if (result is RtmpChunkResult.NeedMore or RtmpChunkResult.Failed)
                    break;
            }
        }
    }

    [Fact]
    public void NoAllocationAfterWarmUp()
    {
        var r = NewReader();
        byte[] video = new byte[9000], audio = new byte[200];
        var chunks = new List<byte>();
        // Video split in chunks of 128 (fmt 3 continuation), interleaved with audio.
        chunks.AddRange(Fmt0(6, 0x1000000, video.Length, 9, 1, ext: true));
        for (int off = 0; off < video.Length; off += 128)
        {
            if (off > 0)
                chunks.AddRange([0xC6, .. Be32(0x1000000)]);
            chunks.AddRange(video.AsSpan(off, Math.Min(128, video.Length - off)).ToArray());
            if (off == 1280)
                chunks.AddRange([.. Fmt0(4, 5, audio.Length, 8, 1), .. audio[..128], 0xC4, .. audio[128..]]);
        }
        byte[] input = [.. chunks];
        long messages = 0;
        void Round()
        {
            int at = 0;
            for (int guard = 0; guard < 1000 && at < input.Length; guard++)
            {
                if (r.Read(input.AsSpan(at), out int consumed, out var m) == RtmpChunkResult.Message)
                    messages += m.Payload.Length > 0 ? 1 : 0;
                at += consumed;
            }
        }
        Round();
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
            Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(r.HasFailed, r.Error);
        Assert.Equal(2 * 202, messages);
        Assert.Equal(0, allocated);
    }
}
