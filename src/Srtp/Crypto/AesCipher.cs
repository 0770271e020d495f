using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Engine.Srtp.Crypto;

/// <summary>
/// AES-128/256 encryption (no decryption: CTR and GCM only need the forward cipher).
/// Uses AES-NI with eight blocks in flight; without AES-NI it falls back to
/// System.Security.Cryptography in ECB mode, which is correct but slower and allocates.
/// </summary>
internal sealed class AesCipher : IDisposable
{
    private readonly Vector128<byte>[] _roundKeys = [];
    private readonly int _rounds;
    private readonly System.Security.Cryptography.Aes? _software;

    /// <param name="allowHardware">False forces the portable path (tests run it on AES-NI machines).</param>
    public AesCipher(ReadOnlySpan<byte> key, bool allowHardware = true)
    {
        if (key.Length is not (16 or 32)) throw new ArgumentException("AES key must be 16 or 32 bytes", nameof(key));
        _rounds = key.Length == 16 ? 10 : 14;
        if (allowHardware && X86Aes.IsSupported && Sse2.IsSupported)
        {
            _roundKeys = key.Length == 16 ? Expand128(key) : Expand256(key);
        }
        else
        {
            _software = System.Security.Cryptography.Aes.Create();
            _software.Key = key.ToArray();
        }
    }

    public bool IsHardware => _software is null;

    public void Dispose()
    {
        Array.Clear(_roundKeys);
        _software?.Dispose();
    }

    /// <summary>Encrypts one 16-byte block.</summary>
    public Vector128<byte> EncryptBlock(Vector128<byte> block)
    {
        if (_software is not null)
        {
            Span<byte> b = stackalloc byte[16];
            block.CopyTo(b);
            _software.EncryptEcb(b, b, System.Security.Cryptography.PaddingMode.None);
            return Vector128.Create((ReadOnlySpan<byte>)b);
        }
        ref Vector128<byte> rk = ref MemoryMarshal.GetArrayDataReference(_roundKeys);
        block ^= rk;
        for (int r = 1; r < _rounds; r++) block = X86Aes.Encrypt(block, Unsafe.Add(ref rk, r));
        return X86Aes.EncryptLast(block, Unsafe.Add(ref rk, _rounds));
    }

    /// <summary>
    /// Counter mode: XORs <paramref name="data"/> with E(iv ^ BE32(counter + i)) for block i.
    /// The caller leaves the low 32 bits of <paramref name="iv"/> for the counter (RFC 3711 §4.1.1
    /// has a 16-bit block counter there, RFC 7714 §8.1 / GCM's inc32 a 32-bit one); a packet never
    /// has enough blocks for the XOR to differ from an add.
    /// </summary>
    public void Ctr(Vector128<byte> iv, uint counter, Span<byte> data)
    {
        if (_software is not null)
        {
            CtrSoftware(iv, counter, data);
            return;
        }
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint offset = 0;
        while (length - offset >= 128)
        {
            Ctr8(iv, counter, ref Unsafe.Add(ref p, offset));
            counter += 8;
            offset += 128;
        }
        while (length - offset >= 16)
        {
            Vector128<byte> ks = EncryptBlock(iv ^ Counter(counter++));
            (ks ^ Vector128.LoadUnsafe(ref p, offset)).StoreUnsafe(ref p, offset);
            offset += 16;
        }
        if (offset < length)
        {
            Span<byte> ks = stackalloc byte[16];
            EncryptBlock(iv ^ Counter(counter)).CopyTo(ks);
            for (int i = 0; offset < length; i++, offset++) Unsafe.Add(ref p, offset) ^= ks[i];
        }
    }

    /// <summary>Counter mode over exactly 128 bytes at <paramref name="p"/>: eight blocks in flight. AES-NI only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Ctr8(Vector128<byte> iv, uint counter, ref byte p)
    {
        ref Vector128<byte> rk = ref MemoryMarshal.GetArrayDataReference(_roundKeys);
        int rounds = _rounds;
        Vector128<byte> k0 = rk;
        Vector128<byte> b0 = iv ^ Counter(counter) ^ k0;
        Vector128<byte> b1 = iv ^ Counter(counter + 1) ^ k0;
        Vector128<byte> b2 = iv ^ Counter(counter + 2) ^ k0;
        Vector128<byte> b3 = iv ^ Counter(counter + 3) ^ k0;
        Vector128<byte> b4 = iv ^ Counter(counter + 4) ^ k0;
        Vector128<byte> b5 = iv ^ Counter(counter + 5) ^ k0;
        Vector128<byte> b6 = iv ^ Counter(counter + 6) ^ k0;
        Vector128<byte> b7 = iv ^ Counter(counter + 7) ^ k0;
        for (int r = 1; r < rounds; r++)
        {
            Vector128<byte> k = Unsafe.Add(ref rk, r);
            b0 = X86Aes.Encrypt(b0, k);
            b1 = X86Aes.Encrypt(b1, k);
            b2 = X86Aes.Encrypt(b2, k);
            b3 = X86Aes.Encrypt(b3, k);
            b4 = X86Aes.Encrypt(b4, k);
            b5 = X86Aes.Encrypt(b5, k);
            b6 = X86Aes.Encrypt(b6, k);
            b7 = X86Aes.Encrypt(b7, k);
        }
        Vector128<byte> kl = Unsafe.Add(ref rk, rounds);
        (X86Aes.EncryptLast(b0, kl) ^ Vector128.LoadUnsafe(ref p)).StoreUnsafe(ref p);
        (X86Aes.EncryptLast(b1, kl) ^ Vector128.LoadUnsafe(ref p, 16)).StoreUnsafe(ref p, 16);
        (X86Aes.EncryptLast(b2, kl) ^ Vector128.LoadUnsafe(ref p, 32)).StoreUnsafe(ref p, 32);
        (X86Aes.EncryptLast(b3, kl) ^ Vector128.LoadUnsafe(ref p, 48)).StoreUnsafe(ref p, 48);
        (X86Aes.EncryptLast(b4, kl) ^ Vector128.LoadUnsafe(ref p, 64)).StoreUnsafe(ref p, 64);
        (X86Aes.EncryptLast(b5, kl) ^ Vector128.LoadUnsafe(ref p, 80)).StoreUnsafe(ref p, 80);
        (X86Aes.EncryptLast(b6, kl) ^ Vector128.LoadUnsafe(ref p, 96)).StoreUnsafe(ref p, 96);
        (X86Aes.EncryptLast(b7, kl) ^ Vector128.LoadUnsafe(ref p, 112)).StoreUnsafe(ref p, 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Counter(uint counter) =>
        Vector128.Create(0u, 0u, 0u, BinaryPrimitives.ReverseEndianness(counter)).AsByte();

    private void CtrSoftware(Vector128<byte> iv, uint counter, Span<byte> data)
    {
        Span<byte> ks = stackalloc byte[256];
        for (int offset = 0; offset < data.Length; offset += ks.Length)
        {
            int n = Math.Min(ks.Length, data.Length - offset);
            int blocks = (n + 15) / 16;
            for (int i = 0; i < blocks; i++) (iv ^ Counter(counter++)).CopyTo(ks[(i * 16)..]);
            _software!.EncryptEcb(ks[..(blocks * 16)], ks, System.Security.Cryptography.PaddingMode.None);
            for (int i = 0; i < n; i++) data[offset + i] ^= ks[i];
        }
    }

    // FIPS 197 §5.2 key expansion with AESKEYGENASSIST; the immediates must be constants.
    private static Vector128<byte>[] Expand128(ReadOnlySpan<byte> key)
    {
        var rk = new Vector128<byte>[11];
        rk[0] = Vector128.Create(key);
        rk[1] = Step128(rk[0], X86Aes.KeygenAssist(rk[0], 0x01));
        rk[2] = Step128(rk[1], X86Aes.KeygenAssist(rk[1], 0x02));
        rk[3] = Step128(rk[2], X86Aes.KeygenAssist(rk[2], 0x04));
        rk[4] = Step128(rk[3], X86Aes.KeygenAssist(rk[3], 0x08));
        rk[5] = Step128(rk[4], X86Aes.KeygenAssist(rk[4], 0x10));
        rk[6] = Step128(rk[5], X86Aes.KeygenAssist(rk[5], 0x20));
        rk[7] = Step128(rk[6], X86Aes.KeygenAssist(rk[6], 0x40));
        rk[8] = Step128(rk[7], X86Aes.KeygenAssist(rk[7], 0x80));
        rk[9] = Step128(rk[8], X86Aes.KeygenAssist(rk[8], 0x1b));
        rk[10] = Step128(rk[9], X86Aes.KeygenAssist(rk[9], 0x36));
        return rk;
    }

    private static Vector128<byte> Step128(Vector128<byte> key, Vector128<byte> assist)
    {
        assist = Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();
        return PrefixXor(key) ^ assist;
    }

    private static Vector128<byte>[] Expand256(ReadOnlySpan<byte> key)
    {
        var rk = new Vector128<byte>[15];
        rk[0] = Vector128.Create(key[..16]);
        rk[1] = Vector128.Create(key[16..32]);
        rk[2] = StepA(rk[0], X86Aes.KeygenAssist(rk[1], 0x01)); rk[3] = StepB(rk[1], X86Aes.KeygenAssist(rk[2], 0));
        rk[4] = StepA(rk[2], X86Aes.KeygenAssist(rk[3], 0x02)); rk[5] = StepB(rk[3], X86Aes.KeygenAssist(rk[4], 0));
        rk[6] = StepA(rk[4], X86Aes.KeygenAssist(rk[5], 0x04)); rk[7] = StepB(rk[5], X86Aes.KeygenAssist(rk[6], 0));
        rk[8] = StepA(rk[6], X86Aes.KeygenAssist(rk[7], 0x08)); rk[9] = StepB(rk[7], X86Aes.KeygenAssist(rk[8], 0));
        rk[10] = StepA(rk[8], X86Aes.KeygenAssist(rk[9], 0x10)); rk[11] = StepB(rk[9], X86Aes.KeygenAssist(rk[10], 0));
        rk[12] = StepA(rk[10], X86Aes.KeygenAssist(rk[11], 0x20)); rk[13] = StepB(rk[11], X86Aes.KeygenAssist(rk[12], 0));
        rk[14] = StepA(rk[12], X86Aes.KeygenAssist(rk[13], 0x40));
        return rk;
    }

    private static Vector128<byte> StepA(Vector128<byte> key, Vector128<byte> assist) =>
        PrefixXor(key) ^ Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();

    private static Vector128<byte> StepB(Vector128<byte> key, Vector128<byte> assist) =>
        PrefixXor(key) ^ Sse2.Shuffle(assist.AsUInt32(), 0xAA).AsByte();

    // w0, w0^w1, w0^w1^w2, w0^w1^w2^w3: each word of the new round key XORs all words before it.
    private static Vector128<byte> PrefixXor(Vector128<byte> k)
    {
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        return k;
    }
}
