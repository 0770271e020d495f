using Engine.Dtls;

namespace Engine.Dtls.Tests;

public class InMemoryHandshakeTests
{
    [Theory]
    [InlineData(CipherSuite.EcdheEcdsaAes128GcmSha256, SrtpProtectionProfile.AeadAes128Gcm)]
    [InlineData(CipherSuite.EcdheEcdsaAes128GcmSha256, SrtpProtectionProfile.AeadAes256Gcm)]
    [InlineData(CipherSuite.EcdheEcdsaAes256GcmSha384, SrtpProtectionProfile.Aes128CmHmacSha1_80)]
    [InlineData(CipherSuite.EcdheEcdsaAes256GcmSha384, SrtpProtectionProfile.Aes128CmHmacSha1_32)]
    public void Handshake_completes_and_both_sides_export_the_same_srtp_keys(CipherSuite suite, ushort profile)
    {
        var options = new DtlsOptions { CipherSuites = [suite], SrtpProfiles = [profile] };
        using var pair = new DtlsPair(options, options);

        Assert.True(pair.Handshake(), $"client {pair.Client.State}/{pair.Client.FailureReason}, server {pair.Server.State}/{pair.Server.FailureReason}");

        Assert.Equal(suite, pair.Client.CipherSuite);
        Assert.Equal(suite, pair.Server.CipherSuite);
        Assert.Equal(profile, pair.Client.SrtpProfile);
        Assert.Equal(profile, pair.Server.SrtpProfile);
        var c = new byte[100];
        var s = new byte[100];
        Assert.True(pair.Client.TryExportSrtpKeyingMaterial(c, out int cl));
        Assert.True(pair.Server.TryExportSrtpKeyingMaterial(s, out int sl));
        Assert.Equal(SrtpProtectionProfile.GetKeyingMaterialLength(profile), cl);
        Assert.Equal(cl, sl);
        Assert.Equal(c.AsSpan(0, cl).ToArray(), s.AsSpan(0, sl).ToArray());
        Assert.NotEqual(new byte[cl], c.AsSpan(0, cl).ToArray());
        Assert.Equal(pair.ServerCertificate.Der, pair.Client.RemoteCertificate);
        Assert.Equal(pair.ClientCertificate.Der, pair.Server.RemoteCertificate);
        // One cookie round trip, then the full handshake: nothing is retransmitted on a clean network.
        Assert.Equal(1, pair.Server.Counters.HelloVerifyRequestsSent);
        Assert.Equal(0, pair.Client.Counters.Retransmissions + pair.Server.Counters.Retransmissions);
    }

    [Theory]
    [InlineData(SrtpProtectionProfile.AeadAes256Gcm, 32, 12)]
    [InlineData(SrtpProtectionProfile.Aes128CmHmacSha1_80, 16, 14)]
    public void Srtp_keys_split_by_direction_match_the_rfc5764_layout(ushort profile, int keyLength, int saltLength)
    {
        var options = new DtlsOptions { SrtpProfiles = [profile] };
        using var pair = new DtlsPair(options, options);
        Assert.True(pair.Handshake());
        var block = new byte[2 * (keyLength + saltLength)];
        Assert.True(pair.Client.TryExportSrtpKeyingMaterial(block, out _));
        byte[] ck = new byte[keyLength], cs = new byte[saltLength], crk = new byte[keyLength], crs = new byte[saltLength];
        byte[] sk = new byte[keyLength], ss = new byte[saltLength], srk = new byte[keyLength], srs = new byte[saltLength];
        Assert.True(pair.Client.TryGetSrtpKeys(ck, cs, crk, crs));
        Assert.True(pair.Server.TryGetSrtpKeys(sk, ss, srk, srs));
        // RFC 5764 §4.2: client_write_SRTP_master_key | server key | client salt | server salt.
        Assert.Equal(block[..keyLength], ck);
        Assert.Equal(block[keyLength..(2 * keyLength)], sk);
        Assert.Equal(block[(2 * keyLength)..(2 * keyLength + saltLength)], cs);
        Assert.Equal(block[(2 * keyLength + saltLength)..], ss);
        Assert.Equal(ck, srk);
        Assert.Equal(cs, srs);
        Assert.Equal(sk, crk);
        Assert.Equal(ss, crs);
        Assert.False(pair.Client.TryGetSrtpKeys(new byte[keyLength - 1], cs, crk, crs));
    }

    [Fact]
    public void Server_preference_picks_the_srtp_profile()
    {
        using var pair = new DtlsPair(
            new DtlsOptions { SrtpProfiles = [SrtpProtectionProfile.Aes128CmHmacSha1_80, SrtpProtectionProfile.AeadAes256Gcm] },
            new DtlsOptions { SrtpProfiles = [SrtpProtectionProfile.AeadAes256Gcm, SrtpProtectionProfile.Aes128CmHmacSha1_80] });
        Assert.True(pair.Handshake());
        Assert.Equal(SrtpProtectionProfile.AeadAes256Gcm, pair.Client.SrtpProfile);
    }

    [Fact]
    public void Handshake_without_cookie_exchange_also_completes()
    {
        using var pair = new DtlsPair(null, new DtlsOptions { RequireCookie = false });
        Assert.True(pair.Handshake());
        Assert.Equal(0, pair.Server.Counters.HelloVerifyRequestsSent);
    }

    [Fact]
    public void Application_data_passes_both_ways_and_close_notify_closes()
    {
        using var pair = new DtlsPair();
        Assert.True(pair.Handshake());
        Assert.True(pair.Client.SendApplicationData("hello server"u8));
        Assert.True(pair.Server.SendApplicationData("hello client"u8));
        pair.Pump(() => false, 50);
        var buffer = new byte[100];
        Assert.True(pair.Server.TryPollApplicationData(buffer, out int n));
        Assert.Equal("hello server"u8.ToArray(), buffer.AsSpan(0, n).ToArray());
        Assert.True(pair.Client.TryPollApplicationData(buffer, out n));
        Assert.Equal("hello client"u8.ToArray(), buffer.AsSpan(0, n).ToArray());
        Assert.False(pair.Client.TryPollApplicationData(buffer, out n));
        Assert.Equal(0, n);

        pair.Client.Close();
        pair.Pump(() => pair.Server.State == DtlsState.Closed, 50);
        Assert.Equal(DtlsState.Closed, pair.Server.State);
        Assert.Equal(1, pair.Server.Counters.AlertsReceived);
        Assert.False(pair.Client.SendApplicationData("late"u8));
    }

    [Fact]
    public void Poll_reports_the_needed_size_instead_of_allocating()
    {
        using var pair = new DtlsPair();
        pair.Client.Start(0);
        Assert.False(pair.Client.TryPollTransmit(new byte[10], out int needed));
        Assert.True(needed > 10);
        Assert.True(pair.Client.TryPollTransmit(new byte[needed], out int length));
        Assert.Equal(needed, length);
    }

    [Fact]
    public void Application_data_send_and_receive_allocate_nothing()
    {
        using var pair = new DtlsPair();
        Assert.True(pair.Handshake());
        var payload = new byte[1000];
        var wire = new byte[2048];
        var plain = new byte[2048];
        // Warm up the reused queue slots and the AES-GCM contexts.
        for (int i = 0; i < 20; i++) RoundTrip();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) RoundTrip();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        void RoundTrip()
        {
            pair.Client.SendApplicationData(payload);
            pair.Client.TryPollTransmit(wire, out int n);
            pair.Server.HandleDatagram(wire.AsSpan(0, n), 1);
            if (!pair.Server.TryPollApplicationData(plain, out int m) || m != payload.Length) throw new InvalidOperationException("lost");
        }
    }

    [Fact]
    public void Keying_material_is_not_available_before_the_handshake()
    {
        using var pair = new DtlsPair();
        Assert.False(pair.Client.TryExportKeyingMaterial("EXTRACTOR-dtls_srtp"u8, new byte[60]));
        Assert.False(pair.Client.TryExportSrtpKeyingMaterial(new byte[60], out _));
    }
}
