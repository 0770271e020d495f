using Engine.Codec.Rtmp;

namespace Engine.Codec.Tests;

/// <summary>Found while writing the play client: a publisher whose server floods pings and never reads.</summary>
public sealed class RtmpPublishSessionFloodTests
{
    [Fact]
    public void PingFlood_WhileNothingIsSent_FailsTheSession_WithoutThrowing()
    {
        var s = new RtmpPublishSession(new RtmpUrl("127.0.0.1", 1935, "live", "x"), 32 * 1024);
        s.Start(0);
        s.Receive([3, .. new byte[2 * RtmpPublishSession.HandshakeSize]]);
        var server = new ScriptedRtmpServer();
        byte[] ping = server.Chunks(2, 4, 0, 0, [0, 6, 0, 0, 0, 1]);
        byte[] many = Enumerable.Repeat(ping, 1000).SelectMany(p => p).ToArray();
        for (int i = 0; i < 100 && !s.HasFailed; i++)
            s.Receive(many); // the host sends nothing: the server does not read
        Assert.True(s.HasFailed);
        Assert.False(string.IsNullOrEmpty(s.Error));
    }
}
