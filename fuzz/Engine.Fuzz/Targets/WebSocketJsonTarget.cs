using System.Text.Json;
using Engine.Host.Signaling;
using Engine.Rtp.Sdp;

namespace Engine.Fuzz.Targets;

/// <summary>The legacy WebSocket signaling messages: envelope parse, every req_data member the handlers read, the SDP inside.</summary>
public sealed class WebSocketJsonTarget : FuzzTarget
{
    private static readonly string[] Members = ["stream", "sdp", "record", "ignoreMedia", "server_id", "param", "user_id"];
    private long _sink;

    public override string Name => "ws-json";
    public override string Description => "legacy WebSocket JSON: LegacyRequest.TryParse, GetString/GetBool on every req_data member, SDP in \"sdp\"";
    public override int MaxLength => 16 * 1024;
    public override string[] DictionaryAssemblies => ["engine"];
    public override string[] Tokens => ["{\"id\":1,\"route\":\"imRTC/sendSdpCall\",\"req_data\":{", "\"route\":", "\"req_data\":", "\"id\":", "\"sdp\":\"", "\"stream\":\"", "\"record\":", "\"user_id\":\"", "true", "false", "null", "\\u0000", "\\n", "\\r\\n", "[", "]", "{", "}"];

    public override bool Run(Span<byte> input)
    {
        if (!LegacyRequest.TryParse(input, out var request, out string error, out string idJson))
        {
            if (error.Length == 0)
                throw new InvalidOperationException("LegacyRequest.TryParse failed without saying why");
            _sink += idJson.Length;
            return false;
        }
        using (request)
        {
            long sum = request!.Route.Length + request.IdJson.Length;
            foreach (string name in Members)
                sum += (request.GetString(name)?.Length ?? 0) + (request.GetBool(name) ? 1 : 0);
            // Unknown members are read too: the handlers must never meet a value that throws.
            int members = 0;
            foreach (var p in request.Data.EnumerateObject())
            {
                sum += (request.GetString(p.Name)?.Length ?? 0) + (request.GetBool(p.Name) ? 1 : 0);
                if (++members > 64)
                    break;
            }
            if (request.GetString("sdp") is { } sdp && SessionDescription.TryParse(sdp, out var parsed, out _))
                sum += parsed.Media.Count;
            _sink += sum;
            return true;
        }
    }
}
