using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Engine.Host.Config;

namespace Engine.Host.Signaling;

/// <summary>
/// ICE server credentials handed to clients (legacy <c>imRTC/sendGetToken</c>): coturn's REST-API
/// scheme (username "expiry:user", credential base64(HMAC-SHA1(secret, username))) or a static user.
/// With a <c>[TURN]</c> section the URLs point at our own server (its ports and transports) and
/// its <c>static-auth-secret</c> signs them; otherwise at the coturn named by <c>[WEBRTC]</c>.
/// The secret comes from config; the legacy gateway's hard-coded one is not copied.
/// </summary>
public sealed class TurnCredentials(EngineConfig config)
{
    public readonly record struct IceServer(string[] Urls, string Username, string Credential);

    public bool TryCreate(string userId, long unixNowSeconds, out IceServer server, out string error)
    {
        server = default;
        error = "";
        var turn = config.Turn;
        IPAddress? ip = turn != null ? OwnServerAddress(turn) : config.StunServerExtIp;
        if (ip is null)
        {
            error = turn != null
                ? "no address to hand out for [TURN]: set external-ip, a specific listening-ip, or [WEBRTC] STUNSERVEREXTIP"
                : "no TURN server configured ([WEBRTC] STUNSERVEREXTIP)";
            return false;
        }
        string host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        string[] urls = turn != null ? OwnUrls(turn, host) : new[] { $"turn:{host}?transport=udp", $"turn:{host}?transport=tcp" };
        string? secret = turn is { UseAuthSecret: true } ? turn.StaticAuthSecret : config.TurnSharedSecretScheme ? config.TurnSharedSecret : null;
        if (secret != null)
        {
            if (userId.Contains(':'))
            {
                error = "user_id must not contain ':' (it separates the expiry in the TURN username)";
                return false;
            }
            string username = $"{unixNowSeconds + config.TurnClientTtlSeconds}:{userId}";
            byte[] mac = HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username));
            server = new IceServer(urls, username, Convert.ToBase64String(mac));
            return true;
        }
        if (string.IsNullOrEmpty(config.TurnUserName) || config.TurnPassword == null)
        {
            error = "no TURN user configured ([WEBRTC] TURNUSERNAME/TURNPASSWORD, or [TURN] use-auth-secret)";
            return false;
        }
        server = new IceServer(urls, config.TurnUserName, config.TurnPassword);
        return true;
    }

    // What clients can reach: the NAT's public address, else the one operators named.
    private IPAddress? OwnServerAddress(TurnConfig turn)
    {
        if (turn.ExternalIps.Count > 0)
            return turn.ExternalIps[0].Public;
        if (config.StunServerExtIp != null)
            return config.StunServerExtIp;
        foreach (var ip in turn.ListeningIps)
            if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
                return ip;
        return config.IceLocalIp is { } local && !local.Equals(IPAddress.Any) ? local : null;
    }

    private static string[] OwnUrls(TurnConfig turn, string host)
    {
        var urls = new List<string>(3);
        if (!turn.NoUdp)
            urls.Add($"turn:{host}:{turn.ListeningPort}?transport=udp");
        if (!turn.NoTcp)
            urls.Add($"turn:{host}:{turn.ListeningPort}?transport=tcp");
        if (!turn.NoTls)
            urls.Add($"turns:{host}:{turn.TlsListeningPort}?transport=tcp");
        return urls.ToArray();
    }
}
