using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Engine.Ice;

namespace Engine.Fuzz.Targets;

/// <summary>STUN as received on the media port: parse, every attribute accessor, MESSAGE-INTEGRITY and FINGERPRINT checks.</summary>
public class StunTarget : FuzzTarget
{
    // The ice-pwd values of tests/fixtures/chromium156-{answer,offer}.sdp: the capture's checks verify with them.
    protected static readonly byte[] AnswerPassword = Encoding.ASCII.GetBytes("5PXyuI0CUP0DSJClaph46Xds");
    protected static readonly byte[] OfferPassword = Encoding.ASCII.GetBytes("n/2TSotsQp3jMAJGDUiT+yQa");
    private static readonly byte[][] Keys = [AnswerPassword, OfferPassword, Encoding.ASCII.GetBytes("VOkJxbRl1RmTxUk/WvJxBt")];

    public override string Name => "stun";
    public override string Description => "STUN: StunMessageView.TryRead, all accessors, VerifyMessageIntegrity (fixed ICE passwords), VerifyFingerprint";
    public override int MaxLength => 1500;
    public override string[] DictionaryAssemblies => ["Engine.Ice"];
    public override string[] Tokens => ["\"\\x21\\x12\\xa4\\x42\"", "\"\\x00\\x08\\x00\\x14\"", "\"\\x80\\x28\\x00\\x04\"", "\"\\x00\\x06\"", "\"\\x00\\x20\\x00\\x08\"", "\"\\x00\\x1c\\x00\\x20\"", "xxcb:6soA", "6soA:xxcb"];

    private long _sink;

    public override bool Run(Span<byte> input) => Check(input);

    protected bool Check(ReadOnlySpan<byte> input)
    {
        if (!StunMessageView.TryRead(input, out var m))
            return false;
        long sum = (StunMessageView.LooksLikeStun(input) ? 1 : 0) + m.Length + m.MessageType + (int)m.Method + (int)m.Class + m.TransactionId.Length + m.Bytes.Length;
        if (m.TryGetUsername(out var user)) sum += user.Length;
        if (m.TryGetRealm(out var realm)) sum += realm.Length;
        if (m.TryGetNonce(out var nonce)) sum += nonce.Length;
        if (m.TryGetSoftware(out var software)) sum += software.Length;
        if (m.TryGetData(out var data)) sum += data.Length;
        if (m.TryGetPriority(out uint priority)) sum += priority;
        if (m.HasUseCandidate) sum++;
        if (m.TryGetIceControlling(out ulong controlling)) sum += (long)controlling;
        if (m.TryGetIceControlled(out ulong controlled)) sum += (long)controlled;
        if (m.TryGetLifetime(out uint lifetime)) sum += lifetime;
        if (m.TryGetRequestedTransport(out byte protocol)) sum += protocol;
        if (m.TryGetChannelNumber(out ushort channel)) sum += channel;
        if (m.TryGetXorMappedAddress(out var a1)) sum += a1.Port + a1.GetHashCode();
        if (m.TryGetXorPeerAddress(out var a2)) sum += a2.Port;
        if (m.TryGetXorRelayedAddress(out var a3)) sum += a3.Port;
        if (m.TryGetMappedAddress(out var a4)) sum += a4.Port;
        if (m.TryGetErrorCode(out int code, out var reason)) sum += code + reason.Length;
        Span<StunAttributeType> unknown = stackalloc StunAttributeType[8];
        sum += m.GetUnknownAttributes(unknown) + m.GetUnknownComprehensionRequired(unknown);
        // The fixtures' two ICE passwords and RFC 5769's: every seed verifies with one of them.
        bool verified = false;
        if (m.HasMessageIntegrity)
        {
            foreach (byte[] key in Keys)
                verified |= m.VerifyMessageIntegrity(key);
        }
        if (m.HasMessageIntegritySha256)
            verified |= m.VerifyMessageIntegritySha256(AnswerPassword);
        bool fingerprint = m.HasFingerprint && m.VerifyFingerprint();
        _sink += sum;
        return verified || fingerprint;
    }
}

/// <summary>
/// Structure-aware STUN: before parsing, the header length is set to the input's and
/// MESSAGE-INTEGRITY (HMAC-SHA1 with the fixed password) and FINGERPRINT (CRC-32) are recomputed
/// over the mutated message, so the fuzzer gets past the checksums into what runs after them.
/// </summary>
public sealed class StunSignedTarget : StunTarget
{
    public override string Name => "stun-signed";
    public override string Description => "STUN with MESSAGE-INTEGRITY and FINGERPRINT recomputed on the mutated message, then as 'stun'";

    public override bool Run(Span<byte> input)
    {
        return Check(Fixup(input));
    }

    /// <summary>Sets the header length to the input's (rounded down to 4) and re-signs; returns the message.</summary>
    internal static Span<byte> Fixup(Span<byte> input)
    {
        if (input.Length < StunMessageView.HeaderLength)
            return input;
        int body = (input.Length - StunMessageView.HeaderLength) & ~3;
        input = input[..(StunMessageView.HeaderLength + body)];
        BinaryPrimitives.WriteUInt16BigEndian(input[2..], (ushort)body);
        Sign(input);
        return input;
    }

    internal static void Sign(Span<byte> msg)
    {
        int offset = StunMessageView.HeaderLength;
        bool integrityDone = false;
        // Each step moves at least 4 bytes, so the walk ends.
        while (msg.Length - offset >= 4)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(msg[offset..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(msg[(offset + 2)..]);
            int next = offset + 4 + ((length + 3) & ~3);
            if (next > msg.Length)
                return;
            if (type == 0x0008 && length == 20 && !integrityDone)
            {
                // RFC 8489 §14.5: HMAC over the header (length patched to end at this attribute) and what precedes it.
                ushort saved = BinaryPrimitives.ReadUInt16BigEndian(msg[2..]);
                BinaryPrimitives.WriteUInt16BigEndian(msg[2..], (ushort)(next - StunMessageView.HeaderLength));
                // The receiver's ufrag comes first in USERNAME and its password is the key (RFC 8445 §7.2.2).
                byte[] key = msg[..offset].IndexOf("xxcb:"u8) >= 0 ? OfferPassword : AnswerPassword;
                HMACSHA1.HashData(key, msg[..offset], msg.Slice(offset + 4, 20));
                BinaryPrimitives.WriteUInt16BigEndian(msg[2..], saved);
                integrityDone = true;
            }
            else if (type == 0x8028 && length == 4)
            {
                // RFC 8489 §14.7: CRC-32 of everything before it, XOR 0x5354554e.
                BinaryPrimitives.WriteUInt32BigEndian(msg[(offset + 4)..], Crc32(msg[..offset]) ^ 0x5354554e);
                return;
            }
            offset = next;
        }
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    // ISO 3309 CRC-32 (the engine's is internal; an independent one also cross-checks it).
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xffffffff;
        foreach (byte b in data)
            crc = CrcTable[(crc ^ b) & 0xff] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}
