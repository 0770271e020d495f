using System.Security.Cryptography;
using Engine.Ice;

namespace Engine.Ice.Tests;

// The backend switch is process-wide, so these run alone (xunit runs a non-parallel collection
// after the parallel ones); every other test then sees the default, libcrypto when present.
[CollectionDefinition(nameof(StunSha1BackendCollection), DisableParallelization = true)]
public sealed class StunSha1BackendCollection;

/// <summary>
/// SHA-1 through libcrypto's SHA1_Transform and through the managed compression: each against
/// .NET's SHA1/HMACSHA1 and against each other, and the RFC 5769 vectors and the Chromium capture
/// checks rerun with the managed path forced.
/// </summary>
[Collection(nameof(StunSha1BackendCollection))]
public class StunSha1BackendTests
{
    public static TheoryData<bool> Backends => new() { false, true };

    private static void WithBackend(bool libCrypto, Action test)
    {
        bool saved = StunSha1.UseLibCrypto;
        StunSha1.UseLibCrypto = libCrypto;
        try
        {
            test();
        }
        finally
        {
            StunSha1.UseLibCrypto = saved;
        }
    }

    [Fact]
    public void LibCrypto_IsBoundWhereOpenSsl3IsInstalled()
    {
        // The fast path must not silently go missing on the machines we ship to (Debian, OpenSSL 3).
        bool installed = OperatingSystem.IsLinux()
            && (File.Exists("/usr/lib/x86_64-linux-gnu/libcrypto.so.3") || File.Exists("/usr/lib/aarch64-linux-gnu/libcrypto.so.3"));
        Assert.Equal(installed, StunSha1LibCrypto.IsAvailable);
        Assert.Equal(installed, StunSha1.UseLibCrypto);
    }

    [Fact]
    public void UseLibCrypto_CanBeForcedOffButNotOnWithoutTheLibrary()
    {
        WithBackend(false, () => Assert.False(StunSha1.UseLibCrypto));
        WithBackend(true, () => Assert.Equal(StunSha1LibCrypto.IsAvailable, StunSha1.UseLibCrypto));
    }

    [Fact]
    public void ManagedAndLibCryptoCompressionsAgreeOnRandomStatesAndBlocks()
    {
        if (!StunSha1LibCrypto.IsAvailable)
            return; // nothing to compare; LibCrypto_IsBoundWhereOpenSsl3IsInstalled says whether that is expected
        var rng = new Random(8489);
        var block = new byte[StunSha1.BlockSize];
        for (int i = 0; i < 2000; i++)
        {
            rng.NextBytes(block);
            var managed = new StunSha1 { H0 = (uint)rng.Next(), H1 = (uint)rng.Next(), H2 = (uint)rng.Next(), H3 = (uint)rng.Next(), H4 = (uint)rng.Next() };
            var native = managed;
            managed.CompressManaged(ref block[0]);
            native.CompressLibCrypto(ref block[0]);
            Assert.Equal((managed.H0, managed.H1, managed.H2, managed.H3, managed.H4), (native.H0, native.H1, native.H2, native.H3, native.H4));
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sha1_MatchesDotNetForRandomLengthsAndSplits(bool libCrypto) => WithBackend(libCrypto, () =>
    {
        var rng = new Random(libCrypto ? 11 : 12);
        var digest = new byte[20];
        for (int i = 0; i < 600; i++)
        {
            var data = new byte[i < 300 ? i : rng.Next(2000)];
            rng.NextBytes(data);
            int split = rng.Next(data.Length + 1);
            var h = StunSha1.Initial;
            h.Finish(0, data.AsSpan(0, split), data.AsSpan(split), digest);
            Assert.Equal(SHA1.HashData(data), digest);
        }
    });

    [Theory]
    [MemberData(nameof(Backends))]
    public void HmacSha1_MatchesDotNetForRandomKeysAndLengths(bool libCrypto) => WithBackend(libCrypto, () =>
    {
        var rng = new Random(libCrypto ? 21 : 22);
        var mac = new byte[20];
        for (int i = 0; i < 400; i++)
        {
            var key = new byte[rng.Next(130)];
            var data = new byte[rng.Next(600)];
            rng.NextBytes(key);
            rng.NextBytes(data);
            int split = rng.Next(data.Length + 1);
            StunMessageIntegrityKey.Create(key).Compute(data.AsSpan(0, split), data.AsSpan(split), mac);
            Assert.Equal(HMACSHA1.HashData(key, data), mac);
        }
    });

    [Theory]
    [MemberData(nameof(Backends))]
    public void Rfc5769VectorsVerifyAndRebuild(bool libCrypto) => WithBackend(libCrypto, () =>
    {
        var t = new Rfc5769Tests();
        t.Section2_1_SampleRequest_ParsesAndVerifies();
        t.Section2_1_SampleRequest_RebuiltByteForByte();
        t.Section2_2_Ipv4Response_ParsesAndVerifies();
        t.Section2_2_Ipv4Response_RebuiltByteForByte();
        t.Section2_3_Ipv6Response_ParsesAndVerifies();
        t.Section2_3_Ipv6Response_RebuiltByteForByte();
        t.Section2_4_LongTermRequest_VerifiesWithMd5Key();
        t.Section2_4_LongTermRequest_RebuiltByteForByte();
    });

    [Theory]
    [MemberData(nameof(Backends))]
    public void ChromiumCaptureChecksVerifyAndAreAnsweredWithoutAllocating(bool libCrypto) => WithBackend(libCrypto, () =>
    {
        var capture = new ChromiumCaptureTests();
        capture.EveryBindingRequestAndResponseVerifies();
        capture.OurResponseToEachCapturedRequestEqualsChromiums();
        new IceLiteAgentTests().ChromiumsChecksFromTheCaptureAreAnswered();
        new StunAllocationTests().ParseVerifyAndAnswerChromiumRequests_AllocateNothing();
    });
}
