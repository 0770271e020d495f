using System.Globalization;

namespace Engine.Codec.Rtmp;

/// <summary>
/// rtmp://host[:port]/app[/instance]/stream[?query]: the application is the path up to the last
/// segment, the stream name is the last segment with its query (nginx-rtmp reads publish
/// arguments from it). Only plain rtmp:// without credentials; anything else goes to libavformat.
/// </summary>
internal sealed record RtmpUrl(string Host, int Port, string App, string Stream)
{
    public const int DefaultPort = 1935;

    public string TcUrl => Port == DefaultPort ? $"rtmp://{HostForUrl}/{App}" : $"rtmp://{HostForUrl}:{Port.ToString(CultureInfo.InvariantCulture)}/{App}";

    private string HostForUrl => Host.Contains(':') ? $"[{Host}]" : Host;

    public static bool TryParse(string url, out RtmpUrl parsed)
    {
        parsed = null!;
        const string scheme = "rtmp://";
        if (!url.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        string rest = url[scheme.Length..];
        int slash = rest.IndexOf('/');
        if (slash <= 0)
            return false;
        string authority = rest[..slash];
        string path = rest[(slash + 1)..];
        if (authority.Contains('@'))
            return false; // credentials: libavformat knows the auth schemes
        string host;
        int port = DefaultPort;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0)
                return false;
            host = authority[1..close];
            string after = authority[(close + 1)..];
            if (after.Length > 0 && (!after.StartsWith(':') || !TryPort(after[1..], out port)))
                return false;
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            if (colon >= 0 && !TryPort(authority[(colon + 1)..], out port))
                return false;
        }
        // The stream name may carry a query with slashes in it: split on the last '/' before any '?'.
        int query = path.IndexOf('?');
        int last = (query < 0 ? path : path[..query]).LastIndexOf('/');
        if (host.Length == 0 || last <= 0 || last == path.Length - 1)
            return false;
        parsed = new RtmpUrl(host, port, path[..last], path[(last + 1)..]);
        return true;
    }

    private static bool TryPort(string s, out int port) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536;
}
