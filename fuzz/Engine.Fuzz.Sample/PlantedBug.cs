using System.Buffers.Binary;

namespace Engine.Fuzz.Sample;

/// <summary>
/// The harness self-test: bugs a fuzzer only reaches by guessing a 4-byte magic value behind
/// length checks. Blind mutation needs about 2^32 tries per bug; coverage feedback turns each
/// right byte into a kept input, so the search becomes 4 x 2^8.
/// </summary>
public static class PlantedBug
{
    /// <summary>A tiny TLV-ish format: [type][len][payload...]. Throws on payload "FUZZ".</summary>
    public static bool ParseBytes(ReadOnlySpan<byte> d)
    {
        if (d.Length < 8)
            return false;
        int len = d[1];
        if (len > d.Length - 2)
            return false;
        if (d[0] != 0x17)
            return false;
        // Separate byte compares: each one is its own branch, so each right byte is a new edge.
        if (d[2] == 'F' && d[3] == 'U' && d[4] == 'Z' && d[5] == 'Z')
            throw new InvalidOperationException("planted bug: FUZZ magic at offset 2");
        return true;
    }

    /// <summary>Same, but the magic is one 32-bit compare: found only through the rewriter's split compares.</summary>
    public static bool ParseWord(ReadOnlySpan<byte> d)
    {
        if (d.Length < 12)
            return false;
        int len = d[1];
        if (len > d.Length - 2)
            return false;
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(6, 4));
        if (magic == 0x4255_4721) // "BUG!"
            throw new InvalidOperationException("planted bug: BUG! magic at offset 6");
        return len > 0;
    }
}

/// <summary>The other two crash rules, planted: a hang and a read past the end of the input.</summary>
public static class PlantedFaults
{
    /// <summary>Spins when the input starts with "LOOP" (bounded at 30 s so nothing spins forever if the watchdog is broken).</summary>
    public static bool Spin(ReadOnlySpan<byte> d)
    {
        if (d.Length < 4 || d[0] != 'L' || d[1] != 'O' || d[2] != 'O' || d[3] != 'P')
            return false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long spins = 0;
        while (clock.ElapsedMilliseconds < 30_000)
            spins++;
        return spins > 0;
    }

    /// <summary>Reads 16 bytes past the end without a bounds check when the input starts with "OOB!" (what an unsafe parser bug does).</summary>
    public static bool ReadPast(ReadOnlySpan<byte> d)
    {
        if (d.Length < 4 || d[0] != 'O' || d[1] != 'O' || d[2] != 'B' || d[3] != '!')
            return false;
        ref byte start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(d);
        return System.Runtime.CompilerServices.Unsafe.Add(ref start, d.Length + 16) == 0x5a;
    }
}
