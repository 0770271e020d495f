using Engine.Rtp;

namespace Engine.Rtp.Tests;

public class RtpHeaderExtensionValueTests
{
    [Fact]
    public void AbsSendTime_Is6Point18FixedPointSeconds()
    {
        // 1.5 s = 1.5 * 2^18 = 0x060000
        Assert.True(AbsSendTime.TryRead([0x06, 0x00, 0x00], out var t));
        Assert.Equal(1_500_000, t.Micros);
        Assert.Equal(0x060000u, AbsSendTime.FromMicros(1_500_000).Value);
        // wraps every 64 s
        Assert.Equal(AbsSendTime.FromMicros(1_500_000).Value, AbsSendTime.FromMicros(65_500_000).Value);
        Span<byte> b = stackalloc byte[3];
        Assert.Equal(3, new AbsSendTime(0xabcdef).Write(b));
        Assert.Equal([0xab, 0xcd, 0xef], b.ToArray());
        Assert.False(AbsSendTime.TryRead([1, 2], out _));
    }

    [Fact]
    public void AudioLevel_Rfc6464Section3()
    {
        Assert.True(AudioLevel.TryRead([0x80 | 30], out var level));
        Assert.True(level.VoiceActivity);
        Assert.Equal(30, level.LevelDbov);
        Assert.True(AudioLevel.TryRead([127], out level));
        Assert.False(level.VoiceActivity);
        Assert.Equal(127, level.LevelDbov);
        Span<byte> b = stackalloc byte[1];
        new AudioLevel(true, 5).Write(b);
        Assert.Equal(0x85, b[0]);
        Assert.False(AudioLevel.TryRead([], out _));
    }

    [Fact]
    public void PlayoutDelay_Packs12BitMinAndMax()
    {
        var d = new PlayoutDelay(0x123, 0x456);
        Span<byte> b = stackalloc byte[3];
        d.Write(b);
        Assert.Equal([0x12, 0x34, 0x56], b.ToArray());
        Assert.True(PlayoutDelay.TryRead(b, out var back));
        Assert.Equal(0x123 * 10, back.MinMillis);
        Assert.Equal(0x456 * 10, back.MaxMillis);
    }

    [Fact]
    public void Map_RegistersChromiumUris()
    {
        var map = new RtpHeaderExtensionMap();
        Assert.True(map.Register(3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"));
        Assert.True(map.Register(2, RtpExtensionUris.AbsSendTime));
        Assert.False(map.Register(7, "http://www.webrtc.org/experiments/rtp-hdrext/video-timing"));
        Assert.False(map.Register(0, RtpExtensionUris.Mid));
        Assert.False(map.Register(256, RtpExtensionUris.Mid));
        Assert.Equal(RtpExtensionKind.TransportSequenceNumber, map.GetKind(3));
        Assert.Equal(RtpExtensionKind.Unknown, map.GetKind(7));
        Assert.Equal(RtpExtensionKind.Unknown, map.GetKind(-1));
        Assert.True(map.TryGetId(RtpExtensionKind.AbsSendTime, out int id));
        Assert.Equal(2, id);
        // re-mapping an id forgets the old kind's id
        Assert.True(map.Register(2, RtpExtensionUris.Mid));
        Assert.False(map.TryGetId(RtpExtensionKind.AbsSendTime, out _));
        Assert.True(map.TryGetId(RtpExtensionKind.Mid, out id));
        Assert.Equal(2, id);
    }

    [Fact]
    public void UriTable_RoundTripsEveryKind()
    {
        foreach (var kind in Enum.GetValues<RtpExtensionKind>())
        {
            if (kind == RtpExtensionKind.Unknown) continue;
            Assert.Equal(kind, RtpExtensionUris.KindOf(RtpExtensionUris.UriOf(kind)!));
        }
    }
}
