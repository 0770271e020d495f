using System.Buffers;

namespace Engine.Host.Pull;

/// <summary>
/// One demuxed frame crossing from a pull thread to the media loop: a pooled buffer whose owner is
/// whoever holds the struct (the queue, then the feed or its GOP cache), returned with <see cref="Release"/>.
/// </summary>
internal readonly record struct PulledFrame(byte[] Buffer, int Length, bool Video, bool Keyframe, long Millis)
{
    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    public static PulledFrame Copy(ReadOnlySpan<byte> data, bool video, bool keyframe, long millis)
    {
        var b = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        data.CopyTo(b);
        return new PulledFrame(b, data.Length, video, keyframe, millis);
    }

    public void Release() => ArrayPool<byte>.Shared.Return(Buffer);
}
