using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls.Tests;

public class RecordLayerTests
{
    [Fact]
    public void Record_header_fields_are_read_and_datagrams_hold_several_records()
    {
        byte[] datagram =
        [
            22, 0xFE, 0xFD, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x02, 0xAA, 0xBB,
            21, 0xFE, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0xCC,
        ];
        Assert.True(DtlsRecordView.TryRead(datagram, out DtlsRecordView first));
        Assert.Equal(ContentType.Handshake, first.ContentType);
        Assert.Equal(0xFEFD, first.Version);
        Assert.Equal(1, first.Epoch);
        Assert.Equal(0x0102UL, first.SequenceNumber);
        Assert.Equal(new byte[] { 0xAA, 0xBB }, first.Fragment.ToArray());
        Assert.True(DtlsRecordView.TryRead(datagram.AsSpan(first.TotalLength), out DtlsRecordView second));
        Assert.Equal(ContentType.Alert, second.ContentType);
        Assert.Equal(0xFFFF_FFFF_FFFFUL, second.SequenceNumber);
        Assert.False(DtlsRecordView.TryRead(datagram.AsSpan(0, 14), out _)); // length says 2, only 1 present
        Assert.False(DtlsRecordView.TryRead([23, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], out _)); // TLS, not DTLS
    }

    [Fact]
    public void Replay_window_accepts_new_and_old_unseen_and_rejects_seen_or_too_old()
    {
        var w = new ReplayWindow();
        Assert.True(w.IsFresh(100));
        w.Mark(100);
        Assert.False(w.IsFresh(100));
        Assert.True(w.IsFresh(99));
        Assert.True(w.IsFresh(37));   // 63 behind: still inside the window
        Assert.False(w.IsFresh(36));  // 64 behind: too old
        w.Mark(99);
        Assert.False(w.IsFresh(99));
        w.Mark(300);                  // jump far ahead clears the history
        Assert.True(w.IsFresh(299));
        Assert.False(w.IsFresh(100));
        Assert.False(w.IsFresh(300));
    }

    [Fact]
    public void Reassembler_handles_overlap_reorder_and_duplicates()
    {
        var r = new HandshakeReassembler();
        byte[] message = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        Add(r, 1, message, 50, 50); // the next message first: buffered, not yet deliverable
        Add(r, 0, message, 60, 40);
        Add(r, 0, message, 0, 70);  // overlaps the first fragment
        Assert.Equal(ReassemblyResult.Duplicate, Add(r, 0, message, 10, 10));
        Assert.True(r.TryTake(out HandshakeType type, out ushort seq, out _, out ReadOnlySpan<byte> body));
        Assert.Equal((HandshakeType.Certificate, (ushort)0), (type, seq));
        Assert.Equal(message, body.ToArray());
        Assert.False(r.TryTake(out _, out _, out _, out _)); // seq 1 only has its second half
        Add(r, 1, message, 0, 50);
        Assert.True(r.TryTake(out _, out seq, out _, out body));
        Assert.Equal(1, seq);
        Assert.Equal(message, body.ToArray());
        Assert.Equal(ReassemblyResult.Old, Add(r, 0, message, 0, 10));
    }

    [Fact]
    public void Reassembler_memory_is_bounded()
    {
        var r = new HandshakeReassembler();
        Assert.Equal(ReassemblyResult.TooFarAhead, Add(r, HandshakeReassembler.MaxPending, new byte[10], 0, 5));
        byte[] header = [11, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0xAB];
        Assert.True(HandshakeFragmentView.TryRead(header, out HandshakeFragmentView huge));
        Assert.Equal(65536, huge.MessageLength);
        Assert.Equal(ReassemblyResult.TooLarge, r.Add(huge, 0));
        Add(r, 0, new byte[10], 0, 5);
        Assert.Equal(ReassemblyResult.Inconsistent, Add(r, 0, new byte[20], 5, 5)); // same seq, other length
    }

    [Fact]
    public void Fragment_header_must_fit_its_message()
    {
        byte[] bad = [1, 0, 0, 10, 0, 0, 0, 0, 8, 0, 0, 4, 1, 2, 3, 4]; // offset 8 + 4 > 10
        Assert.False(HandshakeFragmentView.TryRead(bad, out _));
        Assert.False(HandshakeFragmentView.TryRead(bad.AsSpan(0, 11), out _));
    }

    private static ReassemblyResult Add(HandshakeReassembler r, int seq, byte[] message, int offset, int length)
    {
        var f = new byte[12 + length];
        f[0] = (byte)HandshakeType.Certificate;
        f[1] = (byte)(message.Length >> 16); f[2] = (byte)(message.Length >> 8); f[3] = (byte)message.Length;
        f[4] = (byte)(seq >> 8); f[5] = (byte)seq;
        f[6] = (byte)(offset >> 16); f[7] = (byte)(offset >> 8); f[8] = (byte)offset;
        f[9] = (byte)(length >> 16); f[10] = (byte)(length >> 8); f[11] = (byte)length;
        message.AsSpan(offset, length).CopyTo(f.AsSpan(12));
        Assert.True(HandshakeFragmentView.TryRead(f, out HandshakeFragmentView view));
        return r.Add(view, 0);
    }
}
