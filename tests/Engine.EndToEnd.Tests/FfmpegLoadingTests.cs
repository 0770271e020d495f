namespace Engine.EndToEnd.Tests;

/// <summary>
/// libavformat (and the 37 libraries it pulls in, ~9 MB resident) is mapped only when the configured
/// outputs need it; pushing to rtmp:// with our own client does not. Both are checked at start-up.
/// </summary>
public class FfmpegLoadingTests
{
    private static string Maps(EngineProcess engine) => File.ReadAllText($"/proc/{engine.Pid}/maps");

    [Fact]
    public void RtmpWithOurClient_DoesNotMapLibavformat()
    {
        using var engine = new EngineProcess("RTP2RTMPBASEURL=rtmp://127.0.0.1:1/live");
        string maps = Maps(engine);
        Assert.Contains("libavcodec.so.59", maps);
        Assert.DoesNotContain("libavformat.so.59", maps);
        Assert.Contains("avcodec 59.", engine.Output);
        Assert.DoesNotContain("avformat", engine.Output);
    }

    [Fact]
    public void RecordingToFiles_ChecksLibavformatAtStartUp()
    {
        using var engine = new EngineProcess();
        Assert.Contains("libavformat.so.59", Maps(engine));
        Assert.Contains("avformat 59.", engine.Output);
    }
}
