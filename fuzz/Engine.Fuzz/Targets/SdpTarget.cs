using System.Text;
using Engine.Rtp.Sdp;

namespace Engine.Fuzz.Targets;

/// <summary>SDP offers as a browser or an attacker sends them to the signaling endpoint.</summary>
public sealed class SdpTarget : FuzzTarget
{
    public override string Name => "sdp";
    public override string Description => "SDP offer: SessionDescription.TryParse (SdpError is a defined failure), then SdpWriter round trip";
    public override int MaxLength => 16 * 1024;
    public override string[] DictionaryAssemblies => ["Engine.Rtp"];
    public override string[] Tokens => ["\r\n", "a=", "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=rtpmap:", "a=fmtp:", "a=extmap:", "a=ssrc:", "a=ssrc-group:FID ", "a=simulcast:send ", "a=rid:", "a=candidate:", "a=fingerprint:sha-256 ", "a=group:BUNDLE 0 1", "a=mid:", "a=rtcp-fb:", "c=IN IP4 ", "o=- ", "s=-", "t=0 0", "v=0"];

    public override bool Run(Span<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        if (!SessionDescription.TryParse(text, out var sdp, out _))
            return false;
        // What we accept we can write back, and what we write we accept (answers are built from offers).
        string written = sdp.Write();
        if (!SessionDescription.TryParse(written, out var again, out var error))
            throw new InvalidOperationException($"SDP round trip: our own output does not parse ({error})");
        if (again.Media.Count != sdp.Media.Count)
            throw new InvalidOperationException($"SDP round trip: {sdp.Media.Count} media sections became {again.Media.Count}");
        return true;
    }
}
