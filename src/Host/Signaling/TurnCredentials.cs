using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Engine.Host.Config;

namespace Engine.Host.Signaling;

/// <summary>
/// ICE server credentials handed to clients (legacy <c>imRTC/sendGetToken</c>): coturn's REST-API
/// scheme (username "expiry:user", credential base64(HMAC-SHA1(secret, username))) or a static user.
/// The secret comes from config; the legacy gateway's hard-coded one is not copied.
/// </summary>
public sealed class TurnCredentials(EngineConfig config)
{
    public readonly record struct IceServer(string[] Urls, string Username, string Credential);

    public bool TryCreate(string userId, long unixNowSeconds, out IceServer server, out string error)
    {
        server = default;
        error = "";
        if (config.StunServerExtIp is not { } ip)
        {
            error = "no TURN server configured ([WEBRTC] STUNSERVEREXTIP)";
            return false;
        }
        string host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        string[] urls = { $"turn:{host}?transport=udp", $"turn:{host}?transport=tcp" };
        if (config.TurnSharedSecretScheme)
        {
            if (userId.Contains(':'))
            {
                error = "user_id must not contain ':' (it separates the expiry in the TURN username)";
                return false;
            }
            string username = $"{unixNowSeconds + config.TurnClientTtlSeconds}:{userId}";
            byte[] mac = HMACSHA1.HashData(Encoding.UTF8.GetBytes(config.TurnSharedSecret!), Encoding.UTF8.GetBytes(username));
            server = new IceServer(urls, username, Convert.ToBase64String(mac));
            return true;
        }
        if (string.IsNullOrEmpty(config.TurnUserName) || config.TurnPassword == null)
        {
            error = "no TURN user configured ([WEBRTC] TURNUSERNAME/TURNPASSWORD)";
            return false;
        }
        server = new IceServer(urls, config.TurnUserName, config.TurnPassword);
        return true;
    }
}
