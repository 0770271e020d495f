using System.Net;
using System.Security.Cryptography;
using System.Text;
using Engine.Host.Config;
using Engine.Host.Signaling;
using Engine.Ice;

namespace Engine.Host.Tests.Turn;

public class TurnConfigTests
{
    private const string Base = "[BASE]\nPORT=9880\n";

    // A turnserver.conf as coturn's example ships it, pasted under [TURN]: flags without values, repeated keys.
    private const string Pasted = """
        [TURN]
        listening-port=3479
        tls-listening-port=5350
        listening-ip=192.0.2.10
        listening-ip=2001:db8::10
        relay-ip=192.0.2.10
        external-ip=203.0.113.5/192.0.2.10
        min-port=50000
        max-port=50999
        realm=example.org
        lt-cred-mech
        user=alice:secret
        user=bob:0x0123456789abcdef0123456789ABCDEF
        use-auth-secret
        static-auth-secret=north
        denied-peer-ip=203.0.113.0-203.0.113.255
        allowed-peer-ip=10.0.0.1
        no-multicast-peers
        allow-loopback-peers
        user-quota=12
        total-quota=1200
        max-bps=800000
        stale-nonce=300
        max-allocate-timeout=45
        no-stun
        """;

    [Fact]
    public void APastedTurnserverConfIsRead()
    {
        var c = EngineConfig.Parse(Base + Pasted);
        var t = Assert.IsType<TurnConfig>(c.Turn);
        Assert.Empty(c.Warnings);
        Assert.Equal(3479, t.ListeningPort);
        Assert.Equal(5350, t.TlsListeningPort);
        Assert.Equal(new[] { IPAddress.Parse("192.0.2.10"), IPAddress.Parse("2001:db8::10") }, t.ListeningIps);
        Assert.Equal(IPAddress.Parse("203.0.113.5"), t.ExternalIps[0].Public);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), t.ExternalIps[0].Private);
        Assert.Equal((50000, 50999), (t.MinPort, t.MaxPort));
        Assert.Equal("example.org", t.Realm);
        Assert.True(t.LongTermCredentials && t.UseAuthSecret && t.AllowLoopbackPeers && t.NoStun);
        Assert.False(t.NoUdp || t.NoTcp || t.NoTls);
        Assert.Equal(2, t.Users.Count);
        Assert.Equal("secret", t.Users["alice"]);
        Assert.Equal("north", t.StaticAuthSecret);
        Assert.Equal((12, 1200, 800000L, 300), (t.UserQuota, t.TotalQuota, t.MaxBps, t.StaleNonceSeconds));
        Assert.Equal(45, t.MaxAllocateTimeoutSeconds);

        var o = t.ToServerOptions();
        Assert.Equal("north", o.SharedSecret);
        Assert.Equal(100_000, o.MaxBytesPerSecondPerAllocation); // bits to bytes
        Assert.Equal(12, o.MaxAllocationsPerUser);
        Assert.Equal(1200, o.MaxAllocations);
        Assert.Equal(300u, o.NonceLifetimeSeconds);
    }

    [Fact]
    public void ADashRangeBecomesExactPrefixes()
    {
        var t = EngineConfig.Parse(Base + "[TURN]\nuse-auth-secret\nstatic-auth-secret=s\ndenied-peer-ip=203.0.113.7-203.0.113.20\n").Turn!;
        bool Denied(string ip) => t.DeniedPeers.Any(r => r.Contains(NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(ip), 1))));
        Assert.False(Denied("203.0.113.6"));
        Assert.True(Denied("203.0.113.7"));
        Assert.True(Denied("203.0.113.16"));
        Assert.True(Denied("203.0.113.20"));
        Assert.False(Denied("203.0.113.21"));
        // The mapped form of a denied address is the same address.
        Assert.True(Denied("::ffff:203.0.113.9"));
    }

    [Fact]
    public void NoSectionNoServer_EmptySectionServerWithItsDefaults()
    {
        Assert.Null(EngineConfig.Parse(Base).Turn);
        var ex = Assert.Throws<ConfigException>(() => EngineConfig.Parse(Base + "[TURN]\n"));
        Assert.Contains("authentication", ex.Message); // nothing is relayed without it
        var t = EngineConfig.Parse(Base + "[TURN]\nuser=a:b\n").Turn!;
        Assert.Equal((3478, 5349, 49152, 65535), (t.ListeningPort, t.TlsListeningPort, t.MinPort, t.MaxPort));
        Assert.Equal(int.MaxValue, t.ToServerOptions().MaxAllocationsPerUser); // coturn: user-quota 0 is no limit
    }

    [Theory]
    [InlineData("min-port=6000\nmax-port=5000", "min-port")]
    [InlineData("use-auth-secret", "static-auth-secret")]
    [InlineData("cert=/x.pem", "pkey")]
    [InlineData("listening-port=0", "listening-port")]
    [InlineData("user=nocolon", "name:password")]
    [InlineData("user=bob:0x1234", "32 hex")]
    [InlineData("lt-cred-mech=maybe", "lt-cred-mech")]
    [InlineData("denied-peer-ip=10.0.0.9-10.0.0.1", "first <= last")]
    [InlineData("no-udp\nno-tcp\nno-tls", "no listener")]
    public void BadValuesNameTheKey(string lines, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => EngineConfig.Parse(Base + "[TURN]\nuser=a:b\n" + lines + "\n"));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void UnknownTurnKeysWarn()
    {
        var c = EngineConfig.Parse(Base + "[TURN]\nuser=a:b\nfingerprint\ncli-password=x\n");
        Assert.Equal(2, c.Warnings.Count(w => w.Contains("unknown key [TURN]")));
    }

    [Fact]
    public void PrintConfigShowsEveryTurnKeyCommentedOut()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, Cli.Run(new[] { "--print-config" }, stdout, new StringWriter()));
        foreach (var key in new[] { "listening-port", "tls-listening-port", "listening-ip", "relay-ip", "external-ip", "min-port", "max-port",
                     "realm", "lt-cred-mech", "user", "use-auth-secret", "static-auth-secret", "cert", "pkey", "denied-peer-ip",
                     "allowed-peer-ip", "no-multicast-peers", "allow-loopback-peers", "user-quota", "total-quota", "max-bps",
                     "stale-nonce", "max-allocate-timeout", "no-udp", "no-tcp", "no-tls", "no-stun" })
            Assert.Contains("#" + key, stdout.ToString());
        // The printed config is itself valid and starts no TURN server.
        Assert.Null(EngineConfig.Parse(stdout.ToString()).Turn);
    }

    [Fact]
    public void SendGetTokenPointsAtOurServerWithItsSecret()
    {
        var c = EngineConfig.Parse(Base + "[WEBRTC]\nSTUNSERVEREXTIP=198.51.100.1\n[TURN]\nlistening-port=3479\ntls-listening-port=5350\nlistening-ip=192.0.2.10\nuse-auth-secret\nstatic-auth-secret=north\nno-tcp\n");
        Assert.True(new TurnCredentials(c).TryCreate("alice", 1_000, out var server, out var error), error);
        // The named public address wins over the listening one; no-tcp drops turn:...tcp, TLS stays.
        Assert.Equal(new[] { "turn:198.51.100.1:3479?transport=udp", "turns:198.51.100.1:5350?transport=tcp" }, server.Urls);
        Assert.Equal("87400:alice", server.Username); // TURNCLIENTTTL default 86400
        Assert.Equal(Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes("north"), Encoding.UTF8.GetBytes("87400:alice"))), server.Credential);

        var local = EngineConfig.Parse(Base + "[TURN]\nlistening-ip=127.0.0.1\nuse-auth-secret\nstatic-auth-secret=north\n");
        Assert.True(new TurnCredentials(local).TryCreate("bob", 0, out server, out _));
        Assert.Equal(new[] { "turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp", "turns:127.0.0.1:5349?transport=tcp" }, server.Urls);
    }
}
