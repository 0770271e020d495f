using Engine.Rtp;

namespace Engine.Rtp.Tests;

public class RtpPacketTests
{
    [Fact]
    public void WriteThenRead_RoundTripsEveryHeaderField()
    {
        Span<byte> elements = stackalloc byte[32];
        var ext = new RtpHeaderExtensionWriter(elements, twoByte: false);
        Assert.True(ext.TryAdd(3, [0x12, 0x34]));
        Assert.True(ext.TryAdd(4, "1"u8));
        uint[] csrcs = [0x11111111, 0x22222222];
        byte[] payload = [1, 2, 3, 4, 5];
        var packet = new RtpPacket
        {
            Marker = true, PayloadType = 102, SequenceNumber = 0xfffe, Timestamp = 0xdeadbeef, Ssrc = 0xcafebabe,
            Csrcs = csrcs, ExtensionProfile = ext.Profile, ExtensionElements = ext.Written, Payload = payload, PaddingLength = 3,
        };
        var buffer = new byte[packet.GetSerializedLength()];
        Assert.Equal(buffer.Length, packet.Write(buffer));
        // 12 fixed + 8 CSRC + 4 ext header + 5 elements padded to 8 + 5 payload + 3 padding
        Assert.Equal(40, buffer.Length);

        Assert.True(RtpPacketView.TryRead(buffer, out var view));
        Assert.Equal(2, view.Version);
        Assert.True(view.Marker);
        Assert.True(view.HasPadding);
        Assert.Equal(3, view.PaddingLength);
        Assert.Equal(102, view.PayloadType);
        Assert.Equal(0xfffe, view.SequenceNumber);
        Assert.Equal(0xdeadbeefu, view.Timestamp);
        Assert.Equal(0xcafebabeu, view.Ssrc);
        Assert.Equal(2, view.CsrcCount);
        Assert.Equal(0x22222222u, view.GetCsrc(1));
        Assert.Equal(0xBEDE, view.ExtensionProfile);
        Assert.Equal(payload, view.Payload.ToArray());
        Assert.True(view.TryGetExtension(3, out var twcc));
        Assert.True(TransportSequenceNumber.TryRead(twcc, out ushort seq));
        Assert.Equal(0x1234, seq);
        Assert.True(view.TryGetExtension(4, out var mid));
        Assert.Equal("1"u8.ToArray(), mid.ToArray());
        Assert.False(view.TryGetExtension(5, out _));
    }

    [Fact]
    public void TwoByteExtensions_RoundTrip_IncludingEmptyAndLongElements()
    {
        var elements = new byte[300];
        var ext = new RtpHeaderExtensionWriter(elements, twoByte: true);
        Assert.True(ext.TryAdd(200, ReadOnlySpan<byte>.Empty));
        var longValue = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        Assert.True(ext.TryAdd(17, longValue));
        Assert.False(ext.TryAdd(0, [1]));
        var packet = new RtpPacket { PayloadType = 96, ExtensionProfile = ext.Profile, ExtensionElements = ext.Written };
        var buffer = new byte[packet.GetSerializedLength()];
        packet.Write(buffer);
        Assert.True(RtpPacketView.TryRead(buffer, out var view));
        Assert.Equal(0x1000, view.ExtensionProfile);
        var seen = new List<(int, byte[])>();
        foreach (var e in view.Extensions)
            seen.Add((e.Id, e.Data.ToArray()));
        Assert.Equal(2, seen.Count);
        Assert.Equal((200, Array.Empty<byte>()), (seen[0].Item1, seen[0].Item2));
        Assert.Equal(17, seen[1].Item1);
        Assert.Equal(longValue, seen[1].Item2);
        Assert.True(view.Payload.IsEmpty);
    }

    [Fact]
    public void OneByteWriter_RejectsIdsAndLengthsOutsideRfc8285Section42()
    {
        var ext = new RtpHeaderExtensionWriter(new byte[64], twoByte: false);
        Assert.False(ext.TryAdd(15, [1]));
        Assert.False(ext.TryAdd(0, [1]));
        Assert.False(ext.TryAdd(1, ReadOnlySpan<byte>.Empty));
        Assert.False(ext.TryAdd(1, new byte[17]));
        Assert.True(ext.TryAdd(14, new byte[16]));
    }

    // RFC 8285 §4.2 figure: elements of 1, 2 and 4 bytes with two padding bytes between.
    [Fact]
    public void Rfc8285Section42_OneByteExample()
    {
        byte[] packet = [0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
            0xBE, 0xDE, 0x00, 0x03,
            0x10, 0xAA, 0x21, 0xBB, 0xBB, 0x00, 0x00, 0x33, 0xCC, 0xCC, 0xCC, 0xCC,
            0x77];
        Assert.True(RtpPacketView.TryRead(packet, out var view));
        var seen = new List<(int Id, int Length)>();
        foreach (var e in view.Extensions)
            seen.Add((e.Id, e.Data.Length));
        Assert.Equal([(1, 1), (2, 2), (3, 4)], seen);
        Assert.Equal([0x77], view.Payload.ToArray());
        Assert.Equal(28, view.HeaderLength);
    }

    // RFC 8285 §4.3 figure: a zero-length element, a one-byte element, a padding byte, a 4-byte element.
    [Fact]
    public void Rfc8285Section43_TwoByteExample()
    {
        byte[] packet = [0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
            0x10, 0x00, 0x00, 0x03,
            0x01, 0x00, 0x02, 0x01, 0xBB, 0x00, 0x03, 0x04, 0xCC, 0xCC, 0xCC, 0xCC];
        Assert.True(RtpPacketView.TryRead(packet, out var view));
        var seen = new List<(int Id, int Length)>();
        foreach (var e in view.Extensions)
            seen.Add((e.Id, e.Data.Length));
        Assert.Equal([(1, 0), (2, 1), (3, 4)], seen);
    }

    [Fact]
    public void OneByteId15_StopsProcessingTheBlock()
    {
        byte[] packet = [0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
            0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAA, 0xF3, 0x01, 0x20, 0xBB, 0x00, 0x00];
        Assert.True(RtpPacketView.TryRead(packet, out var view));
        int count = 0;
        foreach (var e in view.Extensions)
        {
            Assert.Equal(1, e.Id);
            count++;
        }
        Assert.Equal(1, count);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0 })] // 11 bytes
    [InlineData(new byte[] { 0x40, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 })] // version 1
    [InlineData(new byte[] { 0x81, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 })] // CSRC missing
    [InlineData(new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 1 })] // extension block missing
    [InlineData(new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 1, 0x13, 1, 2, 3 })] // element overruns block
    [InlineData(new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x10, 0x00, 0, 1, 0x01, 9, 2, 3 })] // two-byte element overruns
    [InlineData(new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 0 })] // padding count 0
    [InlineData(new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 4 })] // padding longer than payload
    public void MalformedPackets_AreRejected(byte[] packet) => Assert.False(RtpPacketView.TryRead(packet, out _));

    [Fact]
    public void UnknownExtensionProfile_IsKeptOpaque()
    {
        byte[] packet = [0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x12, 0x34, 0, 1, 0xF3, 1, 2, 3, 9];
        Assert.True(RtpPacketView.TryRead(packet, out var view));
        Assert.Equal(0x1234, view.ExtensionProfile);
        Assert.Equal(4, view.ExtensionBlock.Length);
        foreach (var _ in view.Extensions)
            Assert.Fail("no elements expected for a non-RFC 8285 profile");
        Assert.Equal([9], view.Payload.ToArray());
    }

    [Fact]
    public void Writer_RefusesTooSmallDestination()
    {
        var packet = new RtpPacket { PayloadType = 1, Payload = new byte[10] };
        Assert.Equal(0, packet.Write(new byte[21]));
        Assert.Equal(22, packet.Write(new byte[22]));
    }
}
