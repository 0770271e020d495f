using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Fuzz.Runtime;

/// <summary>
/// The edge-coverage map the instrumented assemblies write to (AFL's scheme): every basic block
/// has a random id chosen when it was rewritten, entering it bumps <c>Map[cur ^ Prev]</c> and
/// sets <c>Prev = cur &gt;&gt; 1</c>, so the map counts edges (A→B differs from B→A), not blocks.
/// One input runs at a time on one thread, so the map and <see cref="Prev"/> are plain statics.
/// </summary>
public static unsafe class Coverage
{
    public const int MapBits = 16;
    public const int MapSize = 1 << MapBits;
    public const int MapMask = MapSize - 1;

    /// <summary>Native, so the probe is a load, a xor and an increment (a static readonly pointer is a JIT constant).</summary>
    public static readonly byte* Map = Allocate();

    /// <summary>The previous block's id shifted right by one; the driver zeroes it before each input.</summary>
    public static int Prev;

    /// <summary>The probe at the entry of every basic block: <c>ldc.i4 id; call Hit</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Hit(int cur)
    {
        byte* p = Map + ((cur ^ Prev) & MapMask);
        *p = (byte)(*p + 1);
        Prev = cur >> 1;
    }

    /// <summary>
    /// Split compare (laf-intel/CmpLog-like): inserted before <c>ldc.i4 K; beq|bne.un|ceq</c> with a
    /// constant wider than a byte. Each extra equal byte of the operand lands on a different map
    /// cell, so an input that gets one more byte of a 32-bit magic right counts as new coverage
    /// and the fuzzer keeps it, instead of needing all four bytes at once (2^-32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp32(int value, int constant, int site)
    {
        int x = value ^ constant;
        int equal = ((x & 0xff) == 0 ? 1 : 0) + ((x & 0xff00) == 0 ? 1 : 0)
            + ((x & 0xff0000) == 0 ? 1 : 0) + ((x & unchecked((int)0xff000000)) == 0 ? 1 : 0);
        if (equal == 0)
            return;
        byte* p = Map + ((site + equal) & MapMask);
        *p = (byte)(*p + 1);
        // Remembered so the mutator can try the whole constant at once (libFuzzer's "TORC").
        if (equal >= 1 && equal < 4)
            Recent[(RecentNext++) & (RecentCount - 1)] = constant;
    }

    public const int RecentCount = 64;

    /// <summary>Constants that an input compared against recently and partly matched.</summary>
    public static readonly int[] Recent = new int[RecentCount];

    public static int RecentNext;

    public static void Reset()
    {
        NativeMemory.Clear(Map, MapSize);
        Prev = 0;
    }

    private static byte* Allocate()
    {
        var p = (byte*)NativeMemory.AlignedAlloc(MapSize, 64);
        NativeMemory.Clear(p, MapSize);
        return p;
    }
}
