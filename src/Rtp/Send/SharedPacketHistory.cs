namespace Engine.Rtp.Send;

/// <summary>
/// The packets of one source track (a publisher's video or audio), stored once for all the
/// outputs it is forwarded to: a preallocated ring of payloads with the source's fixed header
/// (for each output's <see cref="RtpForwardRewriter"/>). Each output's <see cref="RtpSendStream"/>
/// keeps only its own header fields and the packet's id here (<see cref="RtpSendStream.WriteShared"/>),
/// builds the packet at send time and answers NACK from it while the slot still holds it; an
/// overwritten packet is no longer retransmittable. Owned by the source track, not by an output.
/// Storing and reading allocate nothing; one thread.
/// </summary>
public sealed class SharedPacketHistory
{
    private readonly byte[] _payloads;
    private readonly byte[] _headers; // the source's 12-byte fixed header per slot
    private readonly long[] _id; // the id the slot holds, -1 when empty
    private readonly int[] _length;
    private readonly int _mask;
    private long _next;

    /// <param name="capacity">Packets kept, rounded up to a power of two.</param>
    /// <param name="maxPayloadSize">Largest payload stored; larger packets are counted and refused.</param>
    public SharedPacketHistory(int capacity, int maxPayloadSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadSize, 1);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        MaxPayloadSize = maxPayloadSize;
        _payloads = new byte[size * maxPayloadSize];
        _headers = new byte[size * RtpPacketView.FixedHeaderLength];
        _id = new long[size];
        _length = new int[size];
        _mask = size - 1;
        Array.Fill(_id, -1L);
    }

    public int Capacity => _id.Length;
    public int MaxPayloadSize { get; }
    /// <summary>Bytes this ring holds (payload slots and headers), allocated once.</summary>
    public long StorageBytes => _payloads.Length + _headers.Length;
    /// <summary>The id the next stored packet gets; ids below <c>NextId - Capacity</c> are overwritten.</summary>
    public long NextId => _next;
    public long Stored { get; private set; }
    /// <summary>Not RTP version 2, or padding longer than the packet.</summary>
    public long DroppedMalformed { get; private set; }
    public long DroppedTooLarge { get; private set; }

    /// <summary>
    /// Keeps <paramref name="rtp"/> (plain RTP, after the upstream's SRTP): its payload, padding
    /// and header extensions stripped (outputs stamp their own), and its fixed header with CSRC
    /// count and the extension and padding bits cleared. Returns the packet's id, -1 when refused (counted).
    /// </summary>
    public long Store(ReadOnlySpan<byte> rtp)
    {
        if (!RtpPacketView.TryRead(rtp, out var view))
        {
            DroppedMalformed++;
            return -1;
        }
        var payload = view.Payload;
        if (payload.Length > MaxPayloadSize)
        {
            DroppedTooLarge++;
            return -1;
        }
        long id = _next++;
        int slot = (int)(id & _mask);
        var header = _headers.AsSpan(slot * RtpPacketView.FixedHeaderLength, RtpPacketView.FixedHeaderLength);
        rtp[..RtpPacketView.FixedHeaderLength].CopyTo(header);
        header[0] = 0x80; // V=2, no padding, extension or CSRCs: what is kept is the fixed header alone
        payload.CopyTo(_payloads.AsSpan(slot * MaxPayloadSize));
        _length[slot] = payload.Length;
        _id[slot] = id;
        Stored++;
        return id;
    }

    /// <summary>True while the ring still holds packet <paramref name="id"/>.</summary>
    public bool Contains(long id) => id >= 0 && _id[(int)(id & _mask)] == id;

    /// <summary>The source's fixed header of packet <paramref name="id"/> (12 bytes); empty when overwritten.</summary>
    public ReadOnlySpan<byte> GetHeader(long id) =>
        Contains(id) ? _headers.AsSpan((int)(id & _mask) * RtpPacketView.FixedHeaderLength, RtpPacketView.FixedHeaderLength) : default;

    /// <summary>The payload of packet <paramref name="id"/>; false (empty) when overwritten.</summary>
    public bool TryGetPayload(long id, out ReadOnlySpan<byte> payload)
    {
        if (!Contains(id))
        {
            payload = default;
            return false;
        }
        int slot = (int)(id & _mask);
        payload = _payloads.AsSpan(slot * MaxPayloadSize, _length[slot]);
        return true;
    }

    /// <summary>Payload bytes of packet <paramref name="id"/>, -1 when overwritten.</summary>
    public int GetPayloadLength(long id) => Contains(id) ? _length[(int)(id & _mask)] : -1;
}
