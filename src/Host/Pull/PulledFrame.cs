using System.Buffers;

namespace Engine.Host.Pull;

/// <summary>
/// One demuxed frame crossing from a pull thread to the media loop: a pooled buffer whose owner is
/// whoever holds the struct (the queue, then the feed or its GOP cache), returned with <see cref="Release"/>.
/// Video is H.264 (Annex B), or VP8 when <see cref="Vp8"/> (encoded for players offering no H.264).
/// </summary>
internal readonly record struct PulledFrame(byte[] Buffer, int Length, bool Video, bool Keyframe, long Millis, bool Vp8 = false)
{
    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    public static PulledFrame Copy(ReadOnlySpan<byte> data, bool video, bool keyframe, long millis, bool vp8 = false)
    {
        var b = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        data.CopyTo(b);
        return new PulledFrame(b, data.Length, video, keyframe, millis, vp8);
    }

    public void Release() => ArrayPool<byte>.Shared.Return(Buffer);
}
