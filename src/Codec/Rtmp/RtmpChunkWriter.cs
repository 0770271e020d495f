using System.Buffers.Binary;

namespace Engine.Codec.Rtmp;

/// <summary>The send half of the RTMP chunk stream: one message as a fmt 0 chunk then fmt 3 chunks (RTMP 1.0 §5.3.1).</summary>
internal static class RtmpChunkWriter
{
    /// <summary>The chunk size both clients announce with set chunk size before their first command.</summary>
    public const int ChunkSize = 4096;

    /// <summary>Bytes <see cref="Write"/> appends for a message of <paramref name="length"/> bytes at <paramref name="millis"/>.</summary>
    public static int MessageSize(int length, uint millis)
    {
        int ext = millis >= 0xFFFFFF ? 4 : 0;
        int chunks = Math.Max(1, (length + ChunkSize - 1) / ChunkSize);
        return 12 + ext + length + (chunks - 1) * (1 + ext);
    }

    /// <summary>
    /// One message of <paramref name="prefix"/> then <paramref name="data"/> on chunk stream
    /// <paramref name="csid"/> (2-63); the caller checked <see cref="MessageSize"/> fits.
    /// </summary>
    public static void Write(ByteBuffer b, int csid, byte type, uint streamId, uint millis, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> data)
    {
        int length = prefix.Length + data.Length;
        // §5.3.1.3: times from 0xFFFFFF on go in the extended field, repeated on every fmt 3 chunk.
        bool ext = millis >= 0xFFFFFF;
        var h = b.Reserve(ext ? 16 : 12);
        h[0] = (byte)csid;
        uint ts = ext ? 0xFFFFFF : millis;
        h[1] = (byte)(ts >> 16); h[2] = (byte)(ts >> 8); h[3] = (byte)ts;
        h[4] = (byte)(length >> 16); h[5] = (byte)(length >> 8); h[6] = (byte)length;
        h[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], streamId);
        if (ext)
            BinaryPrimitives.WriteUInt32BigEndian(h[12..], millis);
        int written = 0;
        while (written < length)
        {
            if (written > 0)
            {
                var c = b.Reserve(ext ? 5 : 1);
                c[0] = (byte)(0xC0 | csid);
                if (ext)
                    BinaryPrimitives.WriteUInt32BigEndian(c[1..], millis);
            }
            int n = Math.Min(ChunkSize, length - written);
            var dst = b.Reserve(n);
            // The chunk may straddle the prefix and the data.
            int fromPrefix = Math.Clamp(prefix.Length - written, 0, n);
            if (fromPrefix > 0)
                prefix.Slice(written, fromPrefix).CopyTo(dst);
            data.Slice(written + fromPrefix - prefix.Length, n - fromPrefix).CopyTo(dst[fromPrefix..]);
            written += n;
        }
    }
}
