using System.Net;
using Engine.Ice.Turn;

namespace Engine.Host.Config;

/// <summary>
/// The <c>[TURN]</c> section: coturn's option names and values (turnserver.conf pasted under the
/// header works), so the keys stay lower-case with dashes. The TURN server runs when the section exists.
/// </summary>
public sealed class TurnConfig
{
    /// <summary>What --print-config appends: every key, commented out (the section's presence starts the server).</summary>
    public const string CommentedExample =
        """

        # [TURN] runs our STUN/TURN server (RFC 8489, RFC 8656) when the section is present. The keys
        # are coturn's: a turnserver.conf can be pasted under the header. Defaults shown.
        #[TURN]
        #listening-port=3478
        #tls-listening-port=5349
        #listening-ip=0.0.0.0          (repeatable; default all addresses)
        #relay-ip=192.0.2.10           (repeatable; default a specific listening-ip, else this host's address)
        #external-ip=203.0.113.5/192.0.2.10
        #min-port=49152
        #max-port=65535
        #realm=engine
        #lt-cred-mech
        #user=alice:secret            (repeatable; or alice:0x<MD5(alice:realm:secret) in hex>)
        #use-auth-secret
        #static-auth-secret=change-me  (REST credentials, also what imRTC/sendGetToken hands out)
        #cert=/etc/ssl/turn.pem        (default [WEBRTC] DTLSCER, else self-signed)
        #pkey=/etc/ssl/turn.key        (default [WEBRTC] DTLSKEY)
        #denied-peer-ip=203.0.113.0-203.0.113.255  (repeatable; on top of the built-in list)
        #allowed-peer-ip=127.0.0.1     (repeatable; exceptions to every deny list)
        #no-multicast-peers            (always on)
        #allow-loopback-peers
        #user-quota=0                  (0: no per-user limit)
        #total-quota=0                 (0: the built-in cap, 10000)
        #max-bps=0                     (bits per second per allocation; 0 is no cap)
        #stale-nonce=600
        #max-allocate-timeout=60       (a TCP/TLS client without an allocation for this long is closed)
        #no-udp
        #no-tcp
        #no-tls
        #no-stun

        """;

    public int ListeningPort { get; set; } = 3478;
    public int TlsListeningPort { get; set; } = 5349;
    /// <summary>Empty: all addresses ([::] dual-stack, or 0.0.0.0).</summary>
    public List<IPAddress> ListeningIps { get; } = new();
    /// <summary>Where relayed sockets bind; empty: the first specific listening-ip, else a local interface address.</summary>
    public List<IPAddress> RelayIps { get; } = new();
    /// <summary>coturn's "public" or "public/private": the public address is the one advertised for the private one.</summary>
    public List<(IPAddress Public, IPAddress? Private)> ExternalIps { get; } = new();
    public int MinPort { get; set; } = 49152;
    public int MaxPort { get; set; } = 65535;
    public string Realm { get; set; } = "engine";
    public bool LongTermCredentials { get; set; }
    /// <summary>user=name:password, or name:0x + 32 hex digits (the key form, MD5(name:realm:password)).</summary>
    public Dictionary<string, string> Users { get; } = new(StringComparer.Ordinal);
    public bool UseAuthSecret { get; set; }
    public string? StaticAuthSecret { get; set; }
    public string? CertificatePath { get; set; }
    public string? KeyPath { get; set; }
    public List<TurnIpRange> DeniedPeers { get; } = new();
    public List<TurnIpRange> AllowedPeers { get; } = new();
    /// <summary>Multicast is always denied; the key is accepted for coturn compatibility.</summary>
    public bool NoMulticastPeers { get; set; } = true;
    public bool AllowLoopbackPeers { get; set; }
    public int UserQuota { get; set; }
    public int TotalQuota { get; set; }
    /// <summary>Bits per second per allocation (coturn's max-bps); 0 is no cap.</summary>
    public long MaxBps { get; set; }
    public int StaleNonceSeconds { get; set; } = 600;
    /// <summary>coturn's max-allocate-timeout: a TCP/TLS connection without an allocation for this long is closed.</summary>
    public int MaxAllocateTimeoutSeconds { get; set; } = 60;
    public bool NoUdp { get; set; }
    public bool NoTcp { get; set; }
    public bool NoTls { get; set; }
    public bool NoStun { get; set; }

    /// <summary>The core's options (clock offset filled in by the host).</summary>
    public TurnServerOptions ToServerOptions()
    {
        // The listener is not shared with DTLS, so RFC 5766's channel range is safe to take, as coturn does.
        var o = new TurnServerOptions { Realm = Realm, NonceLifetimeSeconds = (uint)StaleNonceSeconds, Software = null, MaxChannelNumber = 0x7FFF };
        foreach (var (name, password) in Users)
            o.Users[name] = password;
        if (UseAuthSecret)
            o.SharedSecret = StaticAuthSecret;
        if (TotalQuota > 0)
            o.MaxAllocations = TotalQuota;
        // coturn: user-quota 0 is no per-user limit (total-quota 0 keeps the core's own cap).
        o.MaxAllocationsPerUser = UserQuota > 0 ? UserQuota : int.MaxValue;
        o.MaxBytesPerSecondPerAllocation = MaxBps / 8;
        o.AllowedPeerRanges.AddRange(AllowedPeers);
        if (AllowLoopbackPeers)
        {
            o.AllowedPeerRanges.Add(TurnIpRange.Parse("127.0.0.0/8"));
            o.AllowedPeerRanges.Add(TurnIpRange.Parse("::1/128"));
        }
        o.DeniedPeerRanges.AddRange(DeniedPeers);
        return o;
    }
}
