using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Engine.Ice;

/// <summary>
/// Builds a STUN message (RFC 8489 §5) straight into the caller's buffer: the header, then
/// attributes padded to 4 bytes, then optionally MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and
/// FINGERPRINT in that order. The header length is kept current after every call. When the buffer
/// is too small or the order is broken the call returns false and the writer stays
/// <see cref="Failed"/>; it never throws.
/// </summary>
public ref struct StunMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;
    private Stage _stage;

    private enum Stage : byte { Attributes, AfterIntegrity, AfterIntegritySha256, Done, Failed }

    public StunMessageWriter(Span<byte> destination, StunMethod method, StunClass stunClass, scoped ReadOnlySpan<byte> transactionId)
    {
        _buffer = destination;
        if (destination.Length < StunMessageView.HeaderLength || transactionId.Length != 12 || (ushort)method > 0xFFF)
        {
            _stage = Stage.Failed;
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination, EncodeMessageType(method, stunClass));
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StunMessageView.MagicCookie);
        transactionId.CopyTo(destination[8..]);
        _length = StunMessageView.HeaderLength;
        _stage = Stage.Attributes;
    }

    /// <summary>Bytes written so far (a complete message whenever <see cref="Failed"/> is false).</summary>
    public readonly int Length => _length;

    public readonly bool Failed => _stage == Stage.Failed;

    public readonly ReadOnlySpan<byte> WrittenSpan => _buffer[.._length];

    /// <summary>Interleaves method and class bits (RFC 8489 §5, Figure 3).</summary>
    public static ushort EncodeMessageType(StunMethod method, StunClass stunClass)
    {
        int m = (int)method, c = (int)stunClass;
        return (ushort)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
    }

    /// <summary>Any attribute; the value is padded with zeros to a multiple of 4 (RFC 8489 §14).</summary>
    public bool AddAttribute(StunAttributeType type, scoped ReadOnlySpan<byte> value)
    {
        if (!TryReserve(type, value.Length, out var destination))
            return false;
        value.CopyTo(destination);
        return true;
    }

    /// <summary>An attribute whose value is text, encoded as UTF-8 in place.</summary>
    public bool AddText(StunAttributeType type, scoped ReadOnlySpan<char> text)
    {
        if (text.Length > 0xFFFF || !TryReserve(type, Encoding.UTF8.GetByteCount(text), out var destination))
            return Fail();
        Encoding.UTF8.GetBytes(text, destination);
        return true;
    }

    public bool AddUsername(scoped ReadOnlySpan<byte> utf8) => AddAttribute(StunAttributeType.Username, utf8);

    public bool AddPriority(uint priority) => AddUInt32(StunAttributeType.Priority, priority);

    public bool AddUseCandidate() => TryReserve(StunAttributeType.UseCandidate, 0, out _);

    public bool AddIceControlling(ulong tieBreaker) => AddUInt64(StunAttributeType.IceControlling, tieBreaker);

    public bool AddIceControlled(ulong tieBreaker) => AddUInt64(StunAttributeType.IceControlled, tieBreaker);

    public bool AddLifetime(uint seconds) => AddUInt32(StunAttributeType.Lifetime, seconds);

    /// <summary>REQUESTED-TRANSPORT (RFC 8656 §18.8): the protocol byte then 3 reserved bytes.</summary>
    public bool AddRequestedTransport(byte protocol) => AddUInt32(StunAttributeType.RequestedTransport, (uint)protocol << 24);

    /// <summary>CHANNEL-NUMBER (RFC 8656 §18.1): the number then 2 reserved bytes.</summary>
    public bool AddChannelNumber(ushort channel) => AddUInt32(StunAttributeType.ChannelNumber, (uint)channel << 16);

    public bool AddXorMappedAddress(in NetAddress address) => AddXorAddress(StunAttributeType.XorMappedAddress, address);

    public bool AddXorPeerAddress(in NetAddress address) => AddXorAddress(StunAttributeType.XorPeerAddress, address);

    public bool AddXorRelayedAddress(in NetAddress address) => AddXorAddress(StunAttributeType.XorRelayedAddress, address);

    /// <summary>An XOR-encoded address (RFC 8489 §14.2); see <see cref="StunMessageView.TryGetXorAddress"/>.</summary>
    public bool AddXorAddress(StunAttributeType type, in NetAddress address)
    {
        if (!TryReserve(type, 4 + address.AddressLength, out var v))
            return false;
        v[0] = 0;
        v[1] = address.IsIPv6 ? (byte)0x02 : (byte)0x01;
        BinaryPrimitives.WriteUInt16BigEndian(v[2..], (ushort)(address.Port ^ (StunMessageView.MagicCookie >> 16)));
        int n = address.WriteAddressBytes(v[4..]);
        ReadOnlySpan<byte> mask = _buffer.Slice(4, 16); // cookie then transaction id
        for (int i = 0; i < n; i++)
            v[4 + i] ^= mask[i];
        return true;
    }

    /// <summary>ERROR-CODE (RFC 8489 §14.8): code 300-699 and a UTF-8 reason of at most 763 bytes.</summary>
    public bool AddErrorCode(int code, scoped ReadOnlySpan<byte> reasonUtf8)
    {
        if (code < 300 || code > 699 || reasonUtf8.Length > 763 || !TryReserve(StunAttributeType.ErrorCode, 4 + reasonUtf8.Length, out var v))
            return Fail();
        v[0] = 0;
        v[1] = 0;
        v[2] = (byte)(code / 100);
        v[3] = (byte)(code % 100);
        reasonUtf8.CopyTo(v[4..]);
        return true;
    }

    public bool AddErrorCode(StunErrorCode code, scoped ReadOnlySpan<byte> reasonUtf8) => AddErrorCode((int)code, reasonUtf8);

    /// <summary>UNKNOWN-ATTRIBUTES (RFC 8489 §14.13) for a 420 answer.</summary>
    public bool AddUnknownAttributes(scoped ReadOnlySpan<StunAttributeType> types)
    {
        if (types.Length > 0x7FFF || !TryReserve(StunAttributeType.UnknownAttributes, 2 * types.Length, out var v))
            return Fail();
        for (int i = 0; i < types.Length; i++)
            BinaryPrimitives.WriteUInt16BigEndian(v[(2 * i)..], (ushort)types[i]);
        return true;
    }

    /// <summary>
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message so far, with the header
    /// length already counting this attribute; the bytes are contiguous here.
    /// </summary>
    public bool AddMessageIntegrity(scoped ReadOnlySpan<byte> key) => AddMessageIntegrity(StunMessageIntegrityKey.Create(key));

    /// <summary>As above with the key's HMAC pads precomputed once per session (the fast path).</summary>
    public bool AddMessageIntegrity(in StunMessageIntegrityKey key)
    {
        if (_stage != Stage.Attributes || !Fits(24))
            return Fail();
        int start = _length;
        SetBodyLength(start + 24);
        key.Compute(_buffer[..start], default, _buffer.Slice(start + 4, 20));
        WriteAttributeHeader(start, StunAttributeType.MessageIntegrity, 20);
        _length = start + 24;
        _stage = Stage.AfterIntegrity;
        return true;
    }

    /// <summary>MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), full 32 bytes.</summary>
    public bool AddMessageIntegritySha256(scoped ReadOnlySpan<byte> key)
    {
        if (_stage is not (Stage.Attributes or Stage.AfterIntegrity) || !Fits(36))
            return Fail();
        int start = _length;
        SetBodyLength(start + 36);
        HMACSHA256.HashData(key, _buffer[..start], _buffer.Slice(start + 4, 32));
        WriteAttributeHeader(start, StunAttributeType.MessageIntegritySha256, 32);
        _length = start + 36;
        _stage = Stage.AfterIntegritySha256;
        return true;
    }

    /// <summary>FINGERPRINT (RFC 8489 §14.7), always last: CRC-32 of the message so far XOR 0x5354554E.</summary>
    public bool AddFingerprint()
    {
        if (_stage is Stage.Done or Stage.Failed || !Fits(8))
            return Fail();
        int start = _length;
        SetBodyLength(start + 8);
        uint crc = StunCrc32.Compute(_buffer[..start]) ^ StunMessageView.FingerprintXor;
        WriteAttributeHeader(start, StunAttributeType.Fingerprint, 4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[(start + 4)..], crc);
        _length = start + 8;
        _stage = Stage.Done;
        return true;
    }

    private bool AddUInt32(StunAttributeType type, uint value)
    {
        if (!TryReserve(type, 4, out var v))
            return false;
        BinaryPrimitives.WriteUInt32BigEndian(v, value);
        return true;
    }

    private bool AddUInt64(StunAttributeType type, ulong value)
    {
        if (!TryReserve(type, 8, out var v))
            return false;
        BinaryPrimitives.WriteUInt64BigEndian(v, value);
        return true;
    }

    private bool TryReserve(StunAttributeType type, int valueLength, out Span<byte> value)
    {
        int padded = (valueLength + 3) & ~3;
        if (_stage != Stage.Attributes || valueLength > 0xFFFF || !Fits(4 + padded))
        {
            value = default;
            return Fail();
        }
        int start = _length;
        WriteAttributeHeader(start, type, valueLength);
        value = _buffer.Slice(start + 4, valueLength);
        _buffer.Slice(start + 4 + valueLength, padded - valueLength).Clear();
        _length = start + 4 + padded;
        SetBodyLength(_length);
        return true;
    }

    private readonly bool Fits(int count) =>
        _buffer.Length - _length >= count && _length + count - StunMessageView.HeaderLength <= 0xFFFF;

    private readonly void WriteAttributeHeader(int offset, StunAttributeType type, int valueLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[offset..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(offset + 2)..], (ushort)valueLength);
    }

    private readonly void SetBodyLength(int totalLength) =>
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)(totalLength - StunMessageView.HeaderLength));

    private bool Fail()
    {
        _stage = Stage.Failed;
        return false;
    }
}
