using Engine.Host.Config;

namespace Engine.Host.Tests.Config;

/// <summary>Issue 15: RTMP streams are pulled by the engine, so the legacy playback script is never run.</summary>
public class Rtmp2RtpShellTests
{
    [Fact]
    public void ASetRtmp2RtpShellWarnsThatItIsIgnored()
    {
        var c = EngineConfig.Parse("[WEBRTC]\nRTMP2RTPBASEURL=rtmp://127.0.0.1/live\nRTMP2RTPSHELL=/opt/play.sh\n");
        Assert.Equal("rtmp://127.0.0.1/live", c.Rtmp2RtpBaseUrl);
        var w = Assert.Single(c.Warnings);
        Assert.Contains("line 3", w);
        Assert.Contains("RTMP2RTPSHELL is ignored", w);
    }

    [Fact]
    public void AnEmptyRtmp2RtpShellSaysNothing()
    {
        var c = EngineConfig.Parse("[WEBRTC]\nRTMP2RTPSHELL=\n");
        Assert.Empty(c.Warnings);
    }
}
