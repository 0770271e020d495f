namespace Engine.Rtp.Video;

/// <summary>H.264 NAL unit types (ITU-T H.264 Table 7-1) and the RTP aggregation/fragmentation types (RFC 6184 §5.2).</summary>
public enum H264NalUnitType : byte
{
    Slice = 1,
    SliceDataA = 2,
    SliceDataB = 3,
    SliceDataC = 4,
    IdrSlice = 5,
    Sei = 6,
    Sps = 7,
    Pps = 8,
    AccessUnitDelimiter = 9,
    EndOfSequence = 10,
    EndOfStream = 11,
    FillerData = 12,
    StapA = 24,
    StapB = 25,
    Mtap16 = 26,
    Mtap24 = 27,
    FuA = 28,
    FuB = 29,
}
