using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>
/// Rebuilds VP8 frames from RTP payloads (RFC 7741): strips the payload descriptor, starts a frame
/// at S=1/PID=0, ends it at the marker bit, and reads the keyframe flag and size from the VP8
/// frame header (RFC 6386 §9.1). Loss handling and storage are the <see cref="VideoFrameAssembler"/>'s.
/// </summary>
public sealed class Vp8Depacketizer(int maxFrameBytes = 4 * 1024 * 1024, bool startOnKeyframe = true)
    : VideoDepacketizer(maxFrameBytes, startOnKeyframe)
{
    private protected override void AppendPayload(ReadOnlySpan<byte> payload)
    {
        if (!TryReadDescriptor(payload, out int headerLength, out bool startOfPartition, out int partitionId) || headerLength >= payload.Length)
        {
            Frame.CountDrop(VideoDropReason.Malformed);
            Frame.MarkCorrupt();
        }
        else
        {
            var data = payload[headerLength..];
            bool frameStart = startOfPartition && partitionId == 0;
            if (Frame.Length == 0 && !frameStart)
                Frame.MarkCorrupt(); // the frame's first packet is missing
            if (frameStart)
            {
                if (Frame.Length != 0)
                    Frame.MarkCorrupt(); // two frame starts under one timestamp
                ReadFrameHeader(data);
            }
            if (startOfPartition)
                Frame.UnitCount++;
            Frame.Append(data);
        }
    }

    // RFC 7741 §4.2: X|R|N|S|R|PID, then optional I/L/T/K extension bytes.
    private static bool TryReadDescriptor(ReadOnlySpan<byte> p, out int length, out bool start, out int pid)
    {
        length = 0;
        start = false;
        pid = 0;
        if (p.IsEmpty)
            return false;
        start = (p[0] & 0x10) != 0;
        pid = p[0] & 0x07;
        int o = 1;
        if ((p[0] & 0x80) != 0)
        {
            if (p.Length < 2)
                return false;
            byte x = p[1];
            o = 2;
            if ((x & 0x80) != 0) // I: PictureID, 7 or 15 bits
            {
                if (p.Length <= o)
                    return false;
                o += (p[o] & 0x80) != 0 ? 2 : 1;
            }
            if ((x & 0x40) != 0) // L: TL0PICIDX
                o++;
            if ((x & 0x30) != 0) // T or K: TID|Y|KEYIDX
                o++;
        }
        length = o;
        return o <= p.Length;
    }

    // RFC 6386 §9.1: 3-byte frame tag (bit 0 = 0 for a keyframe), then for keyframes the start
    // code 9d 01 2a and two 16-bit little-endian fields of 14-bit size + 2-bit scale.
    private void ReadFrameHeader(ReadOnlySpan<byte> d)
    {
        if (d.Length < 3 || (d[0] & 0x01) != 0)
            return;
        if (d.Length < 10 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
        {
            Frame.MarkCorrupt();
            return;
        }
        Frame.IsKeyframe = true;
        Frame.Width = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]) & 0x3fff;
        Frame.Height = BinaryPrimitives.ReadUInt16LittleEndian(d[8..]) & 0x3fff;
    }
}
