using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>RFC 8122 §5 fingerprint attribute: hash-func SP fingerprint (UHEX pairs joined by ':').</summary>
public class SdpFingerprintTests
{
    // RFC 8122 §5 example value (sha-1, 20 bytes).
    private const string Rfc8122Example = "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB";

    [Fact]
    public void Parses_the_rfc_example()
    {
        Assert.True(SdpFingerprint.TryParse(Rfc8122Example, out var fp, out string reason), reason);
        Assert.Equal("sha-1", fp!.Algorithm);
        Assert.Equal(Convert.FromHexString("4AADB9B13F82183B540212DF3E5D496B19E57CAB"), fp.Digest);
        Assert.Equal(Rfc8122Example, fp.ToString());
    }

    [Fact]
    public void Lower_case_hex_is_read_and_written_upper_case()
    {
        Assert.True(SdpFingerprint.TryParse("SHA-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab", out var fp, out _));
        Assert.Equal("4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB", fp!.FormatDigest());
        Assert.True(SdpFingerprint.TryParse(Rfc8122Example, out var same, out _));
        Assert.Equal(same, fp); // hash-func compares case-insensitively
        Assert.Equal(same!.GetHashCode(), fp.GetHashCode());
    }

    [Fact]
    public void Format_and_parse_round_trip_every_byte_value()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Chunk(32).ToArray();
        foreach (var chunk in bytes)
        {
            var fp = new SdpFingerprint("sha-256", chunk);
            Assert.True(SdpFingerprint.TryParse(fp.ToString(), out var back, out string reason), reason);
            Assert.Equal(chunk, back!.Digest);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha-256")]
    [InlineData("sha-256 ")]
    [InlineData("sha-1 4A:AD")]
    [InlineData("sha-1 4AAD")]
    [InlineData("sha-1 4A-AD-B9")]
    [InlineData("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:A")]
    [InlineData("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:")]
    [InlineData("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB extra")]
    [InlineData("sh(a 4A:AD")]
    public void Rejects_malformed_values(string? text)
    {
        Assert.False(SdpFingerprint.TryParse(text, out var fp, out string reason));
        Assert.Null(fp);
        Assert.NotEmpty(reason);
    }

    [Fact]
    public void Unknown_hash_functions_accept_any_length_up_to_64_bytes()
    {
        Assert.True(SdpFingerprint.TryParse("x-hash 01:02:03", out var fp, out _));
        Assert.Equal(new byte[] { 1, 2, 3 }, fp!.Digest);
        string tooLong = string.Join(':', Enumerable.Repeat("AB", SdpFingerprint.MaxDigestLength + 1));
        Assert.False(SdpFingerprint.TryParseDigest(tooLong, out _));
    }
}
