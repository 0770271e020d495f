using System.Buffers.Binary;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Rtp.Tests.Send;

/// <summary>
/// A source track's packets stored once (<see cref="SharedPacketHistory"/>) and sent by several
/// <see cref="RtpSendStream"/>s that keep only their own header fields: the packets that leave and
/// the resends a NACK asks for are those of a stream holding its own copy.
/// </summary>
public class SharedPacketHistoryTests
{
    private const uint RtxSsrcBase = 0x9000;

    private static RtpSendStream NewStream(uint ssrc, int seed, bool rtx = true, int history = 256, LeavingPacketStamper? stamper = null, bool preallocate = false) =>
        new(new RtpSendStreamOptions
        {
            Ssrc = ssrc,
            PayloadType = 96,
            RtxSsrc = rtx ? RtxSsrcBase + ssrc : null,
            RtxPayloadType = 97,
            HistoryPackets = history,
            MaxPacketSize = 1400,
            Seed = seed,
            PreallocatePayloads = preallocate,
        }, stamper);

    /// <summary>A publisher's packet: its own SSRC, sequence, timestamp, a one-byte extension block and a payload.</summary>
    private static byte[] Source(int i, bool padding = false)
    {
        var payload = Enumerable.Range(0, 100 + i % 50).Select(k => (byte)(i * 7 + k)).ToArray();
        var p = new byte[12 + 8 + payload.Length + (padding ? 4 : 0)];
        p[0] = (byte)(0x90 | (padding ? 0x20 : 0));
        p[1] = (byte)(102 | (i % 5 == 4 ? 0x80 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(65530 + i));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), (uint)(i / 5 * 3000));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0xabcdef01);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(12), 0xBEDE);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(14), 1);
        p[16] = 0x22; // abs-send-time of the publisher, id 2: not forwarded
        payload.CopyTo(p, 20);
        if (padding)
            p[^1] = 4;
        return p;
    }

    private static byte[] PayloadOf(byte[] source)
    {
        Assert.True(RtpPacketView.TryRead(source, out var v));
        return v.Payload.ToArray();
    }

    private static List<byte[]> Drain(RtpSendStream s, ref long now)
    {
        var list = new List<byte[]>();
        var buffer = new byte[1500];
        for (int guard = 0; guard < 100_000 && s.Pacer.QueuedPackets > 0; guard++)
        {
            if (s.TryPollPacket(buffer, now, out int n))
                list.Add(buffer[..n]);
            else
                now += 1000;
        }
        Assert.Equal(0, s.Pacer.QueuedPackets);
        return list;
    }

    private static RtpPacketView Parse(byte[] packet)
    {
        Assert.True(RtpPacketView.TryRead(packet, out var v));
        return v;
    }

    private static byte[] Nack(uint mediaSsrc, params ushort[] lost)
    {
        var b = new byte[256];
        int n = new GenericNack { SenderSsrc = 9, MediaSsrc = mediaSsrc, LostSequenceNumbers = lost }.Write(b);
        return b[..n];
    }

    [Fact]
    public void StoreKeepsThePayloadOnceAndForgetsWhatTheRingOverwrote()
    {
        var ring = new SharedPacketHistory(5, 1388); // rounded up to 8
        Assert.Equal(8, ring.Capacity);
        var first = Source(0, padding: true);
        long id0 = ring.Store(first);
        Assert.Equal(0, id0);
        Assert.True(ring.TryGetPayload(id0, out var payload));
        Assert.Equal(PayloadOf(first), payload.ToArray()); // extension and padding stripped
        var header = ring.GetHeader(id0);
        Assert.Equal(0x80, header[0]);
        Assert.Equal(first[1..12], header[1..].ToArray());
        for (int i = 1; i < 9; i++)
            Assert.Equal(i, ring.Store(Source(i)));
        Assert.False(ring.Contains(id0));
        Assert.False(ring.TryGetPayload(id0, out _));
        Assert.True(ring.GetHeader(id0).IsEmpty);
        Assert.Equal(-1, ring.GetPayloadLength(id0));
        Assert.True(ring.Contains(8));
        Assert.False(ring.Contains(9)); // not yet stored
        Assert.False(ring.Contains(-1));
        // Bad input is counted and refused.
        Assert.Equal(-1, ring.Store(new byte[5]));
        var tooLarge = new byte[12 + 1389];
        tooLarge[0] = 0x80;
        Assert.Equal(-1, ring.Store(tooLarge));
        Assert.Equal(1, ring.DroppedMalformed);
        Assert.Equal(1, ring.DroppedTooLarge);
        Assert.Equal(9, ring.Stored);
    }

    [Fact]
    public void SharedPacketsLeaveAsAnOwnCopyWouldAndNackIsAnsweredFromTheSharedPayload()
    {
        // Two streams alike (same seed, same stamper start): one holds its own copies, one the shared ids.
        var own = NewStream(0x1111, seed: 3, stamper: new LeavingPacketStamper(3, 5, new SendHistory(), 100));
        var shared = NewStream(0x1111, seed: 3, stamper: new LeavingPacketStamper(3, 5, new SendHistory(), 100));
        var ring = new SharedPacketHistory(64, 1388);
        long nowOwn = 1_000_000, nowShared = 1_000_000;
        for (int i = 0; i < 20; i++)
        {
            var src = Source(i);
            long id = ring.Store(src);
            var v = Parse(src);
            Assert.True(own.WritePayload(v.Payload, v.Timestamp + 5, v.Marker, nowOwn));
            Assert.True(shared.WriteShared(ring, id, v.Timestamp + 5, v.Marker, nowShared));
        }
        var a = Drain(own, ref nowOwn);
        var b = Drain(shared, ref nowShared);
        Assert.Equal(20, b.Count);
        Assert.Equal(a, b);
        for (int i = 0; i < 20; i++)
            Assert.Equal(PayloadOf(Source(i)), Parse(b[i]).Payload.ToArray());

        ushort lost = Parse(b[7]).SequenceNumber;
        own.HandleRtcp(Nack(0x1111, lost), nowOwn);
        shared.HandleRtcp(Nack(0x1111, lost), nowShared);
        var rtxOwn = Drain(own, ref nowOwn);
        var rtxShared = Drain(shared, ref nowShared);
        Assert.Single(rtxShared);
        Assert.Equal(rtxOwn, rtxShared);
        var r = Parse(rtxShared[0]);
        Assert.Equal(RtxSsrcBase + 0x1111, r.Ssrc);
        Assert.Equal(lost, BinaryPrimitives.ReadUInt16BigEndian(r.Payload));
        Assert.Equal(PayloadOf(Source(7)), r.Payload[2..].ToArray());
        Assert.Equal(1, shared.Retransmitted);
    }

    [Fact]
    public void WithoutRtxTheResendIsTheOriginalPacket()
    {
        var s = NewStream(0x2222, seed: 5, rtx: false);
        var ring = new SharedPacketHistory(64, 1388);
        long now = 0;
        for (int i = 0; i < 5; i++)
        {
            var v = Parse(Source(i));
            s.WriteShared(ring, ring.Store(Source(i)), v.Timestamp, v.Marker, now);
        }
        var sent = Drain(s, ref now);
        s.HandleRtcp(Nack(0x2222, Parse(sent[2]).SequenceNumber), now);
        var again = Drain(s, ref now);
        Assert.Single(again);
        Assert.Equal(sent[2], again[0]);
    }

    [Fact]
    public void TwoStreamsWithTheirOwnSequenceNumbersEachGetTheirOwnResend()
    {
        var ring = new SharedPacketHistory(64, 1388);
        var p1 = NewStream(0x1111, seed: 1);
        var p2 = NewStream(0x2222, seed: 2);
        Assert.NotEqual(p1.NextSequenceNumber, p2.NextSequenceNumber);
        long now = 0;
        // The second player joins three packets late: its history holds ids 3.. under its own numbers.
        for (int i = 0; i < 30; i++)
        {
            var v = Parse(Source(i));
            long id = ring.Store(Source(i));
            p1.WriteShared(ring, id, v.Timestamp + 1000, v.Marker, now);
            if (i >= 3)
                p2.WriteShared(ring, id, v.Timestamp + 2000, v.Marker, now);
        }
        var s1 = Drain(p1, ref now);
        var s2 = Drain(p2, ref now);
        Assert.Equal(30, s1.Count);
        Assert.Equal(27, s2.Count);
        // Each asks for source packet 10 by its own sequence number.
        ushort seq1 = Parse(s1[10]).SequenceNumber, seq2 = Parse(s2[7]).SequenceNumber;
        Assert.NotEqual(seq1, seq2);
        p1.HandleRtcp(Nack(0x1111, seq1), now);
        p2.HandleRtcp(Nack(0x2222, seq2), now);
        var r1 = Parse(Drain(p1, ref now).Single());
        var r2 = Parse(Drain(p2, ref now).Single());
        Assert.Equal(RtxSsrcBase + 0x1111, r1.Ssrc);
        Assert.Equal(RtxSsrcBase + 0x2222, r2.Ssrc);
        Assert.Equal(seq1, BinaryPrimitives.ReadUInt16BigEndian(r1.Payload));
        Assert.Equal(seq2, BinaryPrimitives.ReadUInt16BigEndian(r2.Payload));
        Assert.Equal(Parse(s1[10]).Timestamp, r1.Timestamp);
        Assert.Equal(Parse(s2[7]).Timestamp, r2.Timestamp);
        Assert.NotEqual(r1.Timestamp, r2.Timestamp);
        Assert.Equal(PayloadOf(Source(10)), r1.Payload[2..].ToArray());
        Assert.Equal(PayloadOf(Source(10)), r2.Payload[2..].ToArray());
        // A number the second player never sent is not another player's packet.
        p2.HandleRtcp(Nack(0x2222, (ushort)(Parse(s2[0]).SequenceNumber - 1)), now);
        Assert.Equal(1, p2.MissingFromHistory);
        Assert.Empty(Drain(p2, ref now));
    }

    [Fact]
    public void ANackForAPacketTheRingOverwroteIsCountedAndNotAnswered()
    {
        var ring = new SharedPacketHistory(16, 1388);
        var s = NewStream(0x3333, seed: 9, history: 1024);
        long now = 0;
        var sent = new List<byte[]>();
        for (int i = 0; i < 40; i++)
        {
            var v = Parse(Source(i));
            s.WriteShared(ring, ring.Store(Source(i)), v.Timestamp, v.Marker, now);
            sent.AddRange(Drain(s, ref now));
        }
        ushort old = Parse(sent[5]).SequenceNumber, recent = Parse(sent[35]).SequenceNumber;
        s.HandleRtcp(Nack(0x3333, old, recent), now);
        Assert.Equal(1, s.SharedOverwritten);
        Assert.Equal(1, s.MissingFromHistory);
        var again = Drain(s, ref now);
        Assert.Single(again);
        Assert.Equal(recent, BinaryPrimitives.ReadUInt16BigEndian(Parse(again[0]).Payload));

        // Overwritten while queued (a resend waiting in the pacer, or a write of an id already gone): counted, never sent.
        now += 100_000;
        s.HandleRtcp(Nack(0x3333, Parse(sent[30]).SequenceNumber), now);
        for (int i = 40; i < 60; i++)
            ring.Store(Source(i));
        Assert.Empty(Drain(s, ref now));
        Assert.Equal(1, s.EvictedBeforeSend);
        Assert.False(s.WriteShared(ring, 3, 0, false, now));
        Assert.Equal(1, s.SharedMissing);
    }

    [Fact]
    public void APlayerOnTheSharedHistoryHoldsAFractionOfAnOwnHistory()
    {
        var own = NewStream(1, seed: 1, history: 1024, preallocate: true);
        var shared = NewStream(2, seed: 2, history: 1024);
        var late = NewStream(3, seed: 3, history: 1024); // forward-only, then an own packet after all
        Assert.True(own.HistoryBytes >= 1024 * 1400, $"{own.HistoryBytes}");
        Assert.True(late.HistoryBytes <= 1024 * 48, $"{late.HistoryBytes}");
        var ring = new SharedPacketHistory(1024, 1388);
        long now = 0;
        for (int i = 0; i < 10; i++)
        {
            var v = Parse(Source(i));
            own.WritePayload(v.Payload, v.Timestamp, v.Marker, now);
            shared.WriteShared(ring, ring.Store(Source(i)), v.Timestamp, v.Marker, now);
        }
        Assert.True(late.WritePayload(PayloadOf(Source(0)), 0, false, now));
        Assert.Equal(own.HistoryBytes, late.HistoryBytes);
        long t = now;
        Assert.Equal(PayloadOf(Source(0)), Parse(Drain(late, ref t).Single()).Payload.ToArray());
        Console.WriteLine($"history per video stream: own copies {own.HistoryBytes} B, on the shared ring {shared.HistoryBytes} B; the ring once per source track {ring.StorageBytes} B");
        Assert.True(own.HistoryBytes >= 1024 * 1400, $"{own.HistoryBytes}");
        Assert.True(shared.HistoryBytes <= 1024 * 48, $"{shared.HistoryBytes}");
    }

    [Fact]
    public void WriteSharedPollAndNack_AllocateNothing()
    {
        var ring = new SharedPacketHistory(1024, 1388);
        var history = new SendHistory();
        var s = NewStream(0x4444, seed: 4, stamper: new LeavingPacketStamper(3, 5, history));
        var sources = Enumerable.Range(0, 100).Select(i => Source(i)).ToArray();
        var buffer = new byte[1500];
        var rtcp = new byte[64];
        int nackLength = new GenericNack { SenderSsrc = 9, MediaSsrc = 0x4444, LostSequenceNumbers = new ushort[] { 0 } }.Write(rtcp);
        long now = 0, sent = 0;

        void Round()
        {
            foreach (var src in sources)
            {
                long id = ring.Store(src);
                s.WriteShared(ring, id, (uint)now, false, now);
                BinaryPrimitives.WriteUInt16BigEndian(rtcp.AsSpan(12), (ushort)(s.NextSequenceNumber - 1));
                s.HandleRtcp(rtcp.AsSpan(0, nackLength), now);
                for (int guard = 0; guard < 100 && s.Pacer.QueuedPackets > 0; guard++)
                {
                    if (s.TryPollPacket(buffer, now, out _))
                        sent++;
                    else
                        now += 1000;
                }
                now += 30_000;
            }
        }

        Round();
        long fewest = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Round();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
        Assert.Equal(400u, s.PacketsSent);
        Assert.Equal(400, s.Retransmitted);
        Assert.Equal(sent, history.Recorded);
    }
}
