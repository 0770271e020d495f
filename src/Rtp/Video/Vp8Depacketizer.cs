using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>
/// Rebuilds VP8 frames from RTP payloads (RFC 7741): strips the payload descriptor, starts a frame
/// at S=1/PID=0, ends it at the marker bit, and reads the keyframe flag and size from the VP8
/// frame header (RFC 6386 §9.1). Loss handling and storage are the <see cref="VideoFrameAssembler"/>'s;
/// which frames still decode after a loss is read from the descriptor (<see cref="Vp8FrameDependencies"/>).
/// </summary>
public sealed class Vp8Depacketizer : VideoDepacketizer
{
    private readonly Vp8FrameDependencies _deps;

    public Vp8Depacketizer(int maxFrameBytes = 4 * 1024 * 1024, bool startOnKeyframe = true)
        : this(maxFrameBytes, startOnKeyframe, new Vp8FrameDependencies())
    {
    }

    private Vp8Depacketizer(int maxFrameBytes, bool startOnKeyframe, Vp8FrameDependencies deps)
        : base(maxFrameBytes, startOnKeyframe, deps) => _deps = deps;

    public override int PacketsMissingBefore(ReadOnlySpan<byte> payload) =>
        payload.IsEmpty || (TryReadDescriptor(payload, out var d) && d.Start && d.PartitionId == 0) ? 0 : FirstPacketBackfill;

    private protected override void AppendPayload(ReadOnlySpan<byte> payload)
    {
        if (!TryReadDescriptor(payload, out var d) || d.Length >= payload.Length)
        {
            Frame.CountDrop(VideoDropReason.Malformed);
            Frame.MarkCorrupt();
        }
        else
        {
            _deps.OnDescriptor(d.PictureId, d.LongPictureId, d.Tl0PicIdx, d.Tid, d.LayerSync, d.NonReference);
            var data = payload[d.Length..];
            bool frameStart = d.Start && d.PartitionId == 0;
            if (Frame.PacketsInFrame == 1)
                Frame.StartSeen = frameStart;
            if (Frame.Length == 0 && !frameStart)
                Frame.MarkCorrupt(); // the frame's first packet is missing
            if (frameStart)
            {
                if (Frame.Length != 0)
                    Frame.MarkCorrupt(); // two frame starts under one timestamp
                ReadFrameHeader(data);
            }
            if (d.Start)
                Frame.UnitCount++;
            Frame.Append(data);
        }
    }

    private struct Descriptor
    {
        public int Length, PartitionId, PictureId, Tl0PicIdx, Tid;
        public bool Start, NonReference, LongPictureId, LayerSync;
    }

    // RFC 7741 §4.2: X|R|N|S|R|PID, then optional I (PictureID, 7 or 15 bits), L (TL0PICIDX),
    // T/K (TID|Y|KEYIDX) extension bytes.
    private static bool TryReadDescriptor(ReadOnlySpan<byte> p, out Descriptor d)
    {
        d = default;
        d.PictureId = d.Tl0PicIdx = d.Tid = -1;
        if (p.IsEmpty)
            return false;
        d.NonReference = (p[0] & 0x20) != 0;
        d.Start = (p[0] & 0x10) != 0;
        d.PartitionId = p[0] & 0x07;
        int o = 1;
        if ((p[0] & 0x80) != 0)
        {
            if (p.Length < 2)
                return false;
            byte x = p[1];
            o = 2;
            if ((x & 0x80) != 0)
            {
                if (p.Length <= o)
                    return false;
                d.LongPictureId = (p[o] & 0x80) != 0;
                if (d.LongPictureId)
                {
                    if (p.Length <= o + 1)
                        return false;
                    d.PictureId = (p[o] & 0x7F) << 8 | p[o + 1];
                    o += 2;
                }
                else
                {
                    d.PictureId = p[o++] & 0x7F;
                }
            }
            if ((x & 0x40) != 0)
            {
                if (p.Length <= o)
                    return false;
                d.Tl0PicIdx = p[o++];
            }
            if ((x & 0x30) != 0)
            {
                if (p.Length <= o)
                    return false;
                if ((x & 0x20) != 0) // T: TID and Y are meaningful
                {
                    d.Tid = p[o] >> 6;
                    d.LayerSync = (p[o] & 0x20) != 0;
                }
                o++;
            }
        }
        d.Length = o;
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
