using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Engine.Ice;

/// <summary>
/// A STUN message (RFC 8489 §5) read in place from the caller's bytes. <see cref="TryRead"/>
/// checks the header and that every attribute lies within the message; getters return the first
/// occurrence of an attribute (RFC 8489 §14) and ignore what follows MESSAGE-INTEGRITY or
/// MESSAGE-INTEGRITY-SHA256 except the attributes allowed there (RFC 8489 §14.5, §14.6).
/// </summary>
public readonly ref struct StunMessageView
{
    public const int HeaderLength = 20;
    public const uint MagicCookie = 0x2112A442;

    // RFC 8489 §14.7: the CRC-32 is XOR'ed with this so FINGERPRINT never matches another protocol's CRC.
    internal const uint FingerprintXor = 0x5354554E;

    private readonly ReadOnlySpan<byte> _message;
    // Attribute offsets are at least 20, so 0 means absent (and a default view has none).
    private readonly int _visibleEnd;
    private readonly int _integrityOffset;
    private readonly int _integritySha256Offset;
    private readonly int _fingerprintOffset;

    private StunMessageView(ReadOnlySpan<byte> message, int visibleEnd, int integrityOffset, int integritySha256Offset, int fingerprintOffset)
    {
        _message = message;
        _visibleEnd = visibleEnd;
        _integrityOffset = integrityOffset;
        _integritySha256Offset = integritySha256Offset;
        _fingerprintOffset = fingerprintOffset;
    }

    /// <summary>The whole message (header and attributes).</summary>
    public ReadOnlySpan<byte> Bytes => _message;

    public int Length => _message.Length;

    /// <summary>The raw 14-bit message type. RFC 8489 §5.</summary>
    public ushort MessageType => BinaryPrimitives.ReadUInt16BigEndian(_message);

    public StunMethod Method => DecodeMethod(MessageType);

    public StunClass Class => DecodeClass(MessageType);

    /// <summary>The 96-bit transaction id. RFC 8489 §5.</summary>
    public ReadOnlySpan<byte> TransactionId => _message.Slice(8, 12);

    public bool HasMessageIntegrity => _integrityOffset > 0;

    public bool HasMessageIntegritySha256 => _integritySha256Offset > 0;

    public bool HasFingerprint => _fingerprintOffset > 0;

    /// <summary>
    /// Cheap demultiplexing test (RFC 7983 §7: first byte 0..3, plus the magic cookie of RFC 8489 §5);
    /// it does not validate the attributes.
    /// </summary>
    public static bool LooksLikeStun(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= HeaderLength && datagram[0] <= 3
        && BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) == MagicCookie;

    /// <summary>
    /// Parses a whole datagram as one STUN message: the header length must match the datagram
    /// exactly and be a multiple of 4 (RFC 8489 §5), every attribute must fit, and FINGERPRINT
    /// must be last (RFC 8489 §14.7). Never throws.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out StunMessageView message)
    {
        message = default;
        // RFC 8489 §6: the two top bits are zero and the magic cookie is present.
        if (datagram.Length < HeaderLength || (datagram[0] & 0xC0) != 0
            || BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) != MagicCookie)
            return false;
        int bodyLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if ((bodyLength & 3) != 0 || HeaderLength + bodyLength != datagram.Length)
            return false;

        int integrity = 0, integritySha256 = 0, fingerprint = 0;
        int visibleEnd = datagram.Length;
        int offset = HeaderLength;
        // Each step moves at least 4 bytes forward, so this loop ends.
        while (offset < datagram.Length)
        {
            if (fingerprint > 0)
                return false; // RFC 8489 §14.7: FINGERPRINT is the last attribute
            if (datagram.Length - offset < 4)
                return false;
            var type = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(datagram[offset..]);
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[(offset + 2)..]);
            int next = offset + 4 + ((valueLength + 3) & ~3);
            if (next > datagram.Length)
                return false;

            switch (type)
            {
                case StunAttributeType.MessageIntegrity when integrity == 0 && integritySha256 == 0:
                    if (valueLength != 20)
                        return false;
                    integrity = offset;
                    break;
                case StunAttributeType.MessageIntegritySha256 when integritySha256 == 0:
                    // RFC 8489 §14.6: 16 to 32 bytes, a multiple of 4.
                    if (valueLength < 16 || valueLength > 32 || (valueLength & 3) != 0)
                        return false;
                    integritySha256 = offset;
                    break;
                case StunAttributeType.Fingerprint:
                    if (valueLength != 4)
                        return false;
                    fingerprint = offset;
                    break;
            }
            if (visibleEnd == datagram.Length && (integrity | integritySha256 | fingerprint) != 0)
                visibleEnd = offset;
            offset = next;
        }
        message = new StunMessageView(datagram, visibleEnd, integrity, integritySha256, fingerprint);
        return true;
    }

    /// <summary>
    /// The value of the first attribute of this type, without padding. MESSAGE-INTEGRITY,
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are found where they count; anything after the
    /// integrity attributes is ignored (RFC 8489 §14.5).
    /// </summary>
    public bool TryGetAttribute(StunAttributeType type, out ReadOnlySpan<byte> value)
    {
        int at = type switch
        {
            StunAttributeType.MessageIntegrity => _integrityOffset,
            StunAttributeType.MessageIntegritySha256 => _integritySha256Offset,
            StunAttributeType.Fingerprint => _fingerprintOffset,
            _ => Find(type),
        };
        if (at <= 0)
        {
            value = default;
            return false;
        }
        value = ValueAt(at);
        return true;
    }

    private int Find(StunAttributeType type)
    {
        int offset = HeaderLength;
        while (offset < _visibleEnd)
        {
            if ((StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(_message[offset..]) == type)
                return offset;
            offset += 4 + ((BinaryPrimitives.ReadUInt16BigEndian(_message[(offset + 2)..]) + 3) & ~3);
        }
        return 0;
    }

    private ReadOnlySpan<byte> ValueAt(int offset) =>
        _message.Slice(offset + 4, BinaryPrimitives.ReadUInt16BigEndian(_message[(offset + 2)..]));

    public bool Has(StunAttributeType type) => TryGetAttribute(type, out _);

    /// <summary>USERNAME as UTF-8 bytes (RFC 8489 §14.3); for ICE "remoteUfrag:localUfrag" (RFC 8445 §7.2.2).</summary>
    public bool TryGetUsername(out ReadOnlySpan<byte> utf8) => TryGetAttribute(StunAttributeType.Username, out utf8);

    public bool TryGetRealm(out ReadOnlySpan<byte> utf8) => TryGetAttribute(StunAttributeType.Realm, out utf8);

    public bool TryGetNonce(out ReadOnlySpan<byte> utf8) => TryGetAttribute(StunAttributeType.Nonce, out utf8);

    public bool TryGetSoftware(out ReadOnlySpan<byte> utf8) => TryGetAttribute(StunAttributeType.Software, out utf8);

    /// <summary>TURN DATA (RFC 8656 §18.4).</summary>
    public bool TryGetData(out ReadOnlySpan<byte> data) => TryGetAttribute(StunAttributeType.Data, out data);

    /// <summary>PRIORITY (RFC 8445 §7.1.1).</summary>
    public bool TryGetPriority(out uint priority) => TryGetUInt32(StunAttributeType.Priority, out priority);

    /// <summary>USE-CANDIDATE (RFC 8445 §7.1.2): a flag with no value.</summary>
    public bool HasUseCandidate => Find(StunAttributeType.UseCandidate) > 0;

    /// <summary>ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3).</summary>
    public bool TryGetIceControlling(out ulong tieBreaker) => TryGetUInt64(StunAttributeType.IceControlling, out tieBreaker);

    /// <summary>ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3).</summary>
    public bool TryGetIceControlled(out ulong tieBreaker) => TryGetUInt64(StunAttributeType.IceControlled, out tieBreaker);

    /// <summary>LIFETIME in seconds (RFC 8656 §18.2).</summary>
    public bool TryGetLifetime(out uint seconds) => TryGetUInt32(StunAttributeType.Lifetime, out seconds);

    /// <summary>REQUESTED-TRANSPORT protocol number, 17 for UDP (RFC 8656 §18.8).</summary>
    public bool TryGetRequestedTransport(out byte protocol)
    {
        protocol = 0;
        if (!TryGetAttribute(StunAttributeType.RequestedTransport, out var v) || v.Length != 4)
            return false;
        protocol = v[0];
        return true;
    }

    /// <summary>CHANNEL-NUMBER (RFC 8656 §18.1); the range check (0x4000-0x4FFF) is the TURN server's.</summary>
    public bool TryGetChannelNumber(out ushort channel)
    {
        channel = 0;
        if (!TryGetAttribute(StunAttributeType.ChannelNumber, out var v) || v.Length != 4)
            return false;
        channel = BinaryPrimitives.ReadUInt16BigEndian(v);
        return true;
    }

    public bool TryGetXorMappedAddress(out NetAddress address) => TryGetXorAddress(StunAttributeType.XorMappedAddress, out address);

    public bool TryGetXorPeerAddress(out NetAddress address) => TryGetXorAddress(StunAttributeType.XorPeerAddress, out address);

    public bool TryGetXorRelayedAddress(out NetAddress address) => TryGetXorAddress(StunAttributeType.XorRelayedAddress, out address);

    /// <summary>
    /// An XOR-encoded address (RFC 8489 §14.2): the port is XOR'ed with the top 16 bits of the
    /// magic cookie, an IPv4 address with the cookie, an IPv6 address with cookie + transaction id.
    /// </summary>
    public bool TryGetXorAddress(StunAttributeType type, out NetAddress address)
    {
        address = default;
        if (!TryGetAttribute(type, out var v) || v.Length < 4)
            return false;
        ushort port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(v[2..]) ^ (MagicCookie >> 16));
        if (v[1] == 0x01 && v.Length == 8)
        {
            address = NetAddress.FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(v[4..]) ^ MagicCookie, port);
            return true;
        }
        if (v[1] == 0x02 && v.Length == 20)
        {
            Span<byte> bytes = stackalloc byte[16];
            ReadOnlySpan<byte> mask = _message.Slice(4, 16); // cookie then transaction id
            for (int i = 0; i < 16; i++)
                bytes[i] = (byte)(v[4 + i] ^ mask[i]);
            return NetAddress.TryCreate(bytes, port, out address);
        }
        return false;
    }

    /// <summary>MAPPED-ADDRESS (RFC 8489 §14.1), sent by RFC 3489 servers.</summary>
    public bool TryGetMappedAddress(out NetAddress address)
    {
        address = default;
        if (!TryGetAttribute(StunAttributeType.MappedAddress, out var v) || v.Length < 4)
            return false;
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(v[2..]);
        return (v[1] == 0x01 && v.Length == 8 || v[1] == 0x02 && v.Length == 20)
            && NetAddress.TryCreate(v[4..], port, out address);
    }

    /// <summary>ERROR-CODE (RFC 8489 §14.8): code 300-699 and the UTF-8 reason phrase.</summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reasonUtf8)
    {
        code = 0;
        reasonUtf8 = default;
        if (!TryGetAttribute(StunAttributeType.ErrorCode, out var v) || v.Length < 4)
            return false;
        int errorClass = v[2] & 0x07, number = v[3];
        if (errorClass < 3 || errorClass > 6 || number > 99)
            return false;
        code = errorClass * 100 + number;
        reasonUtf8 = v[4..];
        return true;
    }

    /// <summary>
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13) of a 420 answer: writes up to destination.Length types
    /// and returns how many the attribute lists, or -1 when it is absent or malformed.
    /// </summary>
    public int GetUnknownAttributes(Span<StunAttributeType> destination)
    {
        if (!TryGetAttribute(StunAttributeType.UnknownAttributes, out var v) || (v.Length & 1) != 0)
            return -1;
        int count = v.Length / 2;
        for (int i = 0; i < count && i < destination.Length; i++)
            destination[i] = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(v[(2 * i)..]);
        return count;
    }

    /// <summary>
    /// Comprehension-required attributes (type below 0x8000, RFC 8489 §14) that are not members of
    /// <see cref="StunAttributeType"/>: a server answers 420 listing them in UNKNOWN-ATTRIBUTES
    /// (RFC 8489 §6.3.1.1). Writes up to destination.Length and returns how many there are.
    /// </summary>
    public int GetUnknownComprehensionRequired(Span<StunAttributeType> destination) =>
        GetUnknownComprehensionRequired(default, useDefaultSet: true, destination);

    /// <summary>As above, but "understood" is exactly the given list (a TURN-less ICE agent may pass a short one).</summary>
    public int GetUnknownComprehensionRequired(ReadOnlySpan<StunAttributeType> understood, Span<StunAttributeType> destination) =>
        GetUnknownComprehensionRequired(understood, useDefaultSet: false, destination);

    private int GetUnknownComprehensionRequired(ReadOnlySpan<StunAttributeType> understood, bool useDefaultSet, Span<StunAttributeType> destination)
    {
        int count = 0;
        int offset = HeaderLength;
        while (offset < _message.Length)
        {
            var type = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(_message[offset..]);
            bool ignored = offset >= _visibleEnd && offset != _integrityOffset && offset != _integritySha256Offset && offset != _fingerprintOffset;
            if (!ignored && (ushort)type < 0x8000 && !(useDefaultSet ? IsDefined(type) : System.Runtime.InteropServices.MemoryMarshal.Cast<StunAttributeType, ushort>(understood).Contains((ushort)type)))
            {
                if (count < destination.Length)
                    destination[count] = type;
                count++;
            }
            offset += 4 + ((BinaryPrimitives.ReadUInt16BigEndian(_message[(offset + 2)..]) + 3) & ~3);
        }
        return count;
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) with the short-term key (the ICE
    /// password's bytes, RFC 8445 §7.2.2) or a long-term key from <see cref="StunLongTermCredential"/>.
    /// The HMAC covers the header, with its length patched to end at MESSAGE-INTEGRITY, and the
    /// attributes before it; the message is not copied. False when the attribute is absent.
    /// </summary>
    public bool VerifyMessageIntegrity(ReadOnlySpan<byte> key) =>
        _integrityOffset != 0 && VerifyMessageIntegrity(StunMessageIntegrityKey.Create(key));

    /// <summary>As above with the key's HMAC pads precomputed once per session (the fast path).</summary>
    public bool VerifyMessageIntegrity(in StunMessageIntegrityKey key)
    {
        if (_integrityOffset == 0)
            return false;
        Span<byte> header = stackalloc byte[HeaderLength];
        PatchedHeader(_integrityOffset, 20, header);
        Span<byte> mac = stackalloc byte[20];
        key.Compute(header, _message[HeaderLength.._integrityOffset], mac);
        return CryptographicOperations.FixedTimeEquals(mac, ValueAt(_integrityOffset));
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, RFC 8489 §14.6), accepting a value truncated
    /// to 16..32 bytes. False when the attribute is absent.
    /// </summary>
    public bool VerifyMessageIntegritySha256(ReadOnlySpan<byte> key)
    {
        if (_integritySha256Offset == 0)
            return false;
        ReadOnlySpan<byte> received = ValueAt(_integritySha256Offset);
        Span<byte> header = stackalloc byte[HeaderLength];
        PatchedHeader(_integritySha256Offset, received.Length, header);
        Span<byte> mac = stackalloc byte[32];
        StunHmacSha256.Compute(key, header, _message[HeaderLength.._integritySha256Offset], mac);
        return CryptographicOperations.FixedTimeEquals(mac[..received.Length], received);
    }

    // RFC 8489 §14.5, §14.6: the hashed header's length counts up to the end of the integrity attribute.
    private void PatchedHeader(int attributeOffset, int valueLength, Span<byte> header)
    {
        _message[..HeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(attributeOffset + 4 + valueLength - HeaderLength));
    }

    /// <summary>
    /// Checks FINGERPRINT (RFC 8489 §14.7). It is the last attribute, so the header's length is
    /// already the one the CRC covers. False when the attribute is absent.
    /// </summary>
    public bool VerifyFingerprint()
    {
        if (_fingerprintOffset == 0)
            return false;
        uint expected = StunCrc32.Compute(_message[.._fingerprintOffset]) ^ FingerprintXor;
        return BinaryPrimitives.ReadUInt32BigEndian(ValueAt(_fingerprintOffset)) == expected;
    }

    /// <summary>Method bits M0-M11 interleaved with the class bits (RFC 8489 §5, Figure 3).</summary>
    public static StunMethod DecodeMethod(ushort messageType) =>
        (StunMethod)((messageType & 0x000F) | ((messageType & 0x00E0) >> 1) | ((messageType & 0x3E00) >> 2));

    public static StunClass DecodeClass(ushort messageType) =>
        (StunClass)(((messageType >> 4) & 0x1) | ((messageType >> 7) & 0x2));

    private bool TryGetUInt32(StunAttributeType type, out uint value)
    {
        value = 0;
        if (!TryGetAttribute(type, out var v) || v.Length != 4)
            return false;
        value = BinaryPrimitives.ReadUInt32BigEndian(v);
        return true;
    }

    private bool TryGetUInt64(StunAttributeType type, out ulong value)
    {
        value = 0;
        if (!TryGetAttribute(type, out var v) || v.Length != 8)
            return false;
        value = BinaryPrimitives.ReadUInt64BigEndian(v);
        return true;
    }

    private static bool IsDefined(StunAttributeType type) => type switch
    {
        StunAttributeType.MappedAddress or StunAttributeType.Username or StunAttributeType.MessageIntegrity
            or StunAttributeType.ErrorCode or StunAttributeType.UnknownAttributes or StunAttributeType.ChannelNumber
            or StunAttributeType.Lifetime or StunAttributeType.XorPeerAddress or StunAttributeType.Data
            or StunAttributeType.Realm or StunAttributeType.Nonce or StunAttributeType.XorRelayedAddress
            or StunAttributeType.RequestedAddressFamily or StunAttributeType.EvenPort
            or StunAttributeType.RequestedTransport or StunAttributeType.DontFragment
            or StunAttributeType.MessageIntegritySha256 or StunAttributeType.PasswordAlgorithm
            or StunAttributeType.Userhash or StunAttributeType.XorMappedAddress
            or StunAttributeType.ReservationToken or StunAttributeType.Priority
            or StunAttributeType.UseCandidate or StunAttributeType.ConnectionId => true,
        _ => false,
    };
}
