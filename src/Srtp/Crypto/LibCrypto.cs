using System.Runtime.InteropServices;

namespace Engine.Srtp.Crypto;

/// <summary>
/// OpenSSL 3's low-level SHA-1 (it dispatches to SHA-NI where the CPU has it; .NET exposes no
/// SHA-NI intrinsic). Only what <see cref="HmacSha1"/> needs; loaded lazily, probed once.
/// </summary>
internal static unsafe partial class LibCrypto
{
    private const string Library = "libcrypto.so.3";

    public static bool IsAvailable { get; } = Probe();

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Library, out IntPtr handle)) return false;
        return NativeLibrary.TryGetExport(handle, "SHA1_Update", out _);
    }

    // Short, non-blocking calls on caller-owned memory: safe to skip the GC transition.
    [LibraryImport(Library), SuppressGCTransition]
    public static partial int SHA1_Init(void* ctx);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int SHA1_Update(void* ctx, byte* data, nuint length);

    [LibraryImport(Library), SuppressGCTransition]
    public static partial int SHA1_Final(byte* digest, void* ctx);
}
