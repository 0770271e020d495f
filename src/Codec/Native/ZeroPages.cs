using System.Runtime.InteropServices;

namespace Engine.Codec.Native;

/// <summary>
/// Gives the kernel back the pages of a malloc'd block that hold only zeros. FFmpeg zero-fills
/// contexts (av_mallocz), which makes every page resident even when the codec never writes it:
/// most of the AAC encoder's 556 KB context is a band-cost cache that stays zero with the fast coder.
/// After MADV_DONTNEED a private anonymous page reads as zeros again and is faulted in only when
/// written, so the block's contents do not change. Call it only from the thread that owns the block.
/// </summary>
internal static unsafe partial class ZeroPages
{
    private const int PageSize = 4096, MadvDontNeed = 4;

    [LibraryImport("libc.so.6")] private static partial nuint malloc_usable_size(void* block);
    [LibraryImport("libc.so.6")] private static partial int madvise(void* address, nuint length, int advice);

    /// <summary>Releases the whole zero pages inside <paramref name="block"/> (from glibc malloc); returns how many.</summary>
    public static int Release(void* block)
    {
        if (block == null || !OperatingSystem.IsLinux())
            return 0;
        nuint start = ((nuint)block + PageSize - 1) & ~(nuint)(PageSize - 1);
        nuint end = ((nuint)block + malloc_usable_size(block)) & ~(nuint)(PageSize - 1);
        int released = 0;
        nuint run = 0; // start of the current run of zero pages, 0 when none
        for (nuint page = start; page < end; page += PageSize)
        {
            bool zero = new ReadOnlySpan<byte>((void*)page, PageSize).IndexOfAnyExcept((byte)0) < 0;
            if (zero)
            {
                if (run == 0)
                    run = page;
                released++;
            }
            else if (run != 0)
            {
                madvise((void*)run, page - run, MadvDontNeed);
                run = 0;
            }
        }
        if (run != 0)
            madvise((void*)run, end - run, MadvDontNeed);
        return released;
    }

    /// <summary>How many pages of the block are resident (mincore), for tests.</summary>
    public static int Resident(void* block, out int pages)
    {
        nuint start = (nuint)block & ~(nuint)(PageSize - 1);
        nuint end = ((nuint)block + malloc_usable_size(block) + PageSize - 1) & ~(nuint)(PageSize - 1);
        pages = (int)((end - start) / PageSize);
        var vector = new byte[pages];
        fixed (byte* v = vector)
            if (mincore((void*)start, end - start, v) != 0)
                return -1;
        return vector.Count(b => (b & 1) != 0);
    }

    [LibraryImport("libc.so.6")] private static partial int mincore(void* address, nuint length, byte* vector);
}
