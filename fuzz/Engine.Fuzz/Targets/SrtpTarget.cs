using Engine.Srtp;

namespace Engine.Fuzz.Targets;

/// <summary>SRTP/SRTCP unprotect of an attacker's datagram with a fixed key (a fresh session per input, so runs are repeatable).</summary>
public class SrtpTarget : FuzzTarget
{
    public override string Name => "srtp";
    public override string Description => "SRTP/SRTCP: SrtpSession.UnprotectRtp/UnprotectRtcp (AES_CM_128_HMAC_SHA1_80, fixed key) in place";
    public override int MaxLength => 1500;
    public override string[] DictionaryAssemblies => ["Engine.Srtp"];

    protected static readonly SrtpProfile[] Profiles =
        [SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.AeadAes128Gcm, SrtpProfile.Aes128CmHmacSha1_32, SrtpProfile.AeadAes256Gcm];

    protected static byte[] KeyingMaterial(SrtpProfile profile)
    {
        var km = new byte[SrtpSession.KeyingMaterialLength(profile)];
        for (int i = 0; i < km.Length; i++)
            km[i] = (byte)(i * 7 + 1);
        return km;
    }

    // RFC 5761 §4: with rtcp-mux, second byte 192-223 is RTCP.
    protected static bool IsRtcp(ReadOnlySpan<byte> p) => p.Length > 1 && p[1] is >= 192 and <= 223;

    private readonly byte[] _km = KeyingMaterial(SrtpProfile.Aes128CmHmacSha1_80);

    public override bool Run(Span<byte> input)
    {
        using var session = new SrtpSession(SrtpProfile.Aes128CmHmacSha1_80, _km, isClient: false);
        bool rtcp = IsRtcp(input);
        var result = rtcp ? session.UnprotectRtcp(input, out int plain) : session.UnprotectRtp(input, out plain);
        if (result == SrtpResult.Ok && (plain < 0 || plain > input.Length))
            throw new InvalidOperationException($"unprotect returned Ok with plain length {plain} of {input.Length}");
        return result == SrtpResult.Ok;
    }
}

/// <summary>
/// Structure-aware SRTP: the input is a plain RTP/RTCP packet; the peer's session protects it
/// (so the tag is right), ours unprotects it, and the round trip must give the input back.
/// The profile is picked by the input's length, so all four are exercised.
/// </summary>
public sealed class SrtpSignedTarget : SrtpTarget
{
    public override string Name => "srtp-signed";
    public override string Description => "SRTP/SRTCP round trip: protect the mutated plaintext (all 4 profiles), unprotect, compare";

    private readonly byte[][] _kms = Profiles.Select(KeyingMaterial).ToArray();
    private readonly byte[] _buffer = new byte[1500 + 64];

    public override bool Run(Span<byte> input)
    {
        int which = input.Length % Profiles.Length;
        var profile = Profiles[which];
        using var sender = new SrtpSession(profile, _kms[which], isClient: true);
        using var receiver = new SrtpSession(profile, _kms[which], isClient: false);
        bool rtcp = IsRtcp(input);
        input.CopyTo(_buffer);
        var result = rtcp ? sender.ProtectRtcp(_buffer, input.Length, out int protectedLength) : sender.ProtectRtp(_buffer, input.Length, out protectedLength);
        if (result != SrtpResult.Ok)
            return false;
        var packet = _buffer.AsSpan(0, protectedLength);
        var back = rtcp ? receiver.UnprotectRtcp(packet, out int plain) : receiver.UnprotectRtp(packet, out plain);
        if (back != SrtpResult.Ok)
            throw new InvalidOperationException($"{profile}: the peer protected this {(rtcp ? "RTCP" : "RTP")} packet but unprotect says {back}");
        if (!_buffer.AsSpan(0, plain).SequenceEqual(input))
            throw new InvalidOperationException($"{profile}: protect + unprotect changed the packet ({input.Length} -> {plain} bytes)");
        return true;
    }
}
