using System.Buffers.Binary;
using System.Diagnostics;
using Engine.Codec.Rtmp;
using Engine.Host.Pull;

namespace Engine.Host.Tests.Pull;

/// <summary>
/// Issue 15: what an <see cref="RtmpPull"/> queues for the media loop when its session hands it an
/// ffmpeg-made stream's tags (the pull has no thread here): H.264 with B-frames comes out as
/// Constrained Baseline in presentation order, without them as it came; AAC comes out as 20 ms Opus.
/// </summary>
public sealed class RtmpPullTranscodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-pulltags-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<(byte Type, uint Millis, byte[] Body)> Tags(string video, int channels)
    {
        string path = Path.Combine(_dir, "s.flv");
        var psi = new ProcessStartInfo("ffmpeg", "-v error -nostdin -y -f lavfi -i testsrc2=size=320x240:rate=30 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 2 " +
            $"{video} -g 30 -pix_fmt yuv420p -c:a aac -ac {channels} -b:a 64k -f flv {path}") { RedirectStandardError = true, UseShellExecute = false };
        using (var p = Process.Start(psi)!)
        {
            string err = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(60_000) && p.ExitCode == 0, err);
        }
        // FLV 10.1 §E.2-E.3: a 9-byte header, then tags each followed by its size.
        byte[] f = File.ReadAllBytes(path);
        var tags = new List<(byte, uint, byte[])>();
        for (int o = (int)BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(5)) + 4; o + 11 <= f.Length;)
        {
            int size = f[o + 1] << 16 | f[o + 2] << 8 | f[o + 3];
            uint ms = (uint)(f[o + 4] << 16 | f[o + 5] << 8 | f[o + 6]) | (uint)f[o + 7] << 24;
            if (o + 11 + size > f.Length)
                break;
            tags.Add(((byte)(f[o] & 0x1F), ms, f.AsSpan(o + 11, size).ToArray()));
            o += 11 + size + 4;
        }
        return tags;
    }

    private static (List<PulledFrame> Video, List<PulledFrame> Audio) Pull(RtmpPull pull, List<(byte Type, uint Millis, byte[] Body)> tags)
    {
        var video = new List<PulledFrame>();
        var audio = new List<PulledFrame>();
        foreach (var (type, ms, body) in tags)
        {
            if (type is 8 or 9)
                pull.OnEvent(new RtmpPlayEvent(type == 9 ? RtmpPlayEventKind.Video : RtmpPlayEventKind.Audio, ms, body));
            while (pull.TryTake(out var f))
                (f.Video ? video : audio).Add(f);
        }
        return (video, audio);
    }

    private static byte[] Sps(ReadOnlySpan<byte> annexB)
    {
        for (int i = 0; i + 4 < annexB.Length; i++)
            if (annexB[i] == 0 && annexB[i + 1] == 0 && annexB[i + 2] == 1 && (annexB[i + 3] & 0x1F) == 7)
                return annexB.Slice(i + 3, 4).ToArray();
        return [];
    }

    [Fact]
    public void BFramesAreTranscodedToConstrainedBaselineAndAacToOpus()
    {
        var tags = Tags("-c:v libx264 -profile:v high -preset ultrafast -bf 2", 1);
        var pull = RtmpPull.Create("s", "rtmp://127.0.0.1/live/s")!;
        var (video, audio) = Pull(pull, tags);
        const int sourceFrames = 60; // 2 s at 30 frames/s

        Assert.True(pull.VideoTranscoded);
        Assert.False(pull.VideoDropped);
        Assert.Equal(0, pull.TranscodeErrors);
        Assert.InRange(video.Count, sourceFrames - 5, sourceFrames);
        Assert.True(video[0].Keyframe);
        var sps = Sps(video[0].Data);
        Assert.Equal(66, sps[1]); // profile_idc Baseline, constraint_set1: Constrained Baseline (H.264 A.2.1)
        Assert.NotEqual(0, sps[2] & 0x40);
        for (int i = 1; i < video.Count; i++)
            Assert.True(video[i].Millis > video[i - 1].Millis, $"frame {i}: {video[i - 1].Millis} then {video[i].Millis} ms");
        Assert.Equal(2, video.Count(v => v.Keyframe)); // the transcoder's 1 s GOP over 2 s
        Assert.InRange(audio.Count, 90, 110); // 2 s of 20 ms Opus packets
        Assert.All(audio, a => Assert.Equal(0, a.Data[0] & 0x04)); // mono TOC (RFC 6716 §3.1)
        for (int i = 1; i < audio.Count; i++)
            Assert.InRange(audio[i].Millis - audio[i - 1].Millis, 19, 21);
        Assert.Equal(audio.Count, pull.AudioFramesTranscoded);
        foreach (var f in video.Concat(audio))
            f.Release();
    }

    [Fact]
    public void WithoutBFramesTheVideoPassesAsItCame()
    {
        var tags = Tags("-c:v libx264 -profile:v baseline -preset ultrafast -bf 0", 2);
        var pull = RtmpPull.Create("s", "rtmp://127.0.0.1/live/s")!;
        var (video, audio) = Pull(pull, tags);
        Assert.False(pull.VideoTranscoded);
        Assert.Equal(0, pull.VideoFramesTranscoded);
        Assert.Equal(60, video.Count); // 2 s at 30 frames/s, every one
        Assert.Equal(Interlocked.Read(ref pull.VideoFrames), video.Count);
        Assert.True(audio.Count > 80);
        Assert.All(audio, a => Assert.NotEqual(0, a.Data[0] & 0x04)); // stereo TOC
        pull.RequestKeyframe(); // nothing to ask of a pass-through source
        Assert.Equal(0, pull.KeyframesRequested);
        foreach (var f in video.Concat(audio))
            f.Release();
    }
}
