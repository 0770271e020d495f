using System.Text;
using Engine.Host.Config;

namespace Engine.Fuzz.Targets;

/// <summary>The legacy INI config: <see cref="IniDocument.TryParse"/> then the full <see cref="EngineConfig.Parse"/>.</summary>
public sealed class IniTarget : FuzzTarget
{
    public override string Name => "ini";
    public override string Description => "INI config: IniDocument.TryParse + EngineConfig.Parse (ConfigException is a defined failure)";
    public override int MaxLength => 4096;
    public override string[] DictionaryAssemblies => ["engine"];
    public override string[] Tokens => ["[BASE]", "[LOG]", "[WEBSOCKET]", "[WEBRTC]", "[RTP]", "[EXT]", "\n", "=", "\r\n", "rtmp://", "http://", "::1", "127.0.0.1", "RTMP2RTPBASEURL_"];

    public override bool Run(Span<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        bool parsed = IniDocument.TryParse(text, out var document, out var error);
        if (parsed != (error.Length == 0))
            throw new InvalidOperationException("IniDocument.TryParse: result and error disagree");
        try
        {
            var config = EngineConfig.Parse(text);
            // Accepted configs hold what Validate promises.
            if (config.MinVideoBps > config.MaxVideoBps)
                throw new InvalidOperationException("EngineConfig accepted MIN > MAX video bps");
            return parsed && document.Entries.Count >= 0;
        }
        catch (ConfigException)
        {
            return false;
        }
    }
}
