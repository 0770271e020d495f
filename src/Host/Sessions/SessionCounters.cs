using System.Text.Json;
using Engine.Srtp;

namespace Engine.Host.Sessions;

/// <summary>What a session received, sent and dropped, by reason.</summary>
public sealed class SessionCounters
{
    public long RtpPackets;
    public long RtcpPackets;
    public long RtcpSent;
    public long DroppedWrongPath;
    public long DroppedUnknown;
    public long DroppedMalformed;
    public long DroppedUnknownSsrc;
    public long SrtpAuthFailed;
    public long SrtpReplayed;
    public long SrtpOther;

    public void CountSrtp(SrtpResult r)
    {
        switch (r)
        {
            case SrtpResult.AuthFailed: SrtpAuthFailed++; break;
            case SrtpResult.Replay or SrtpResult.TooOld: SrtpReplayed++; break;
            default: SrtpOther++; break;
        }
    }

    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteNumber("rtpPackets", RtpPackets);
        w.WriteNumber("rtcpPackets", RtcpPackets);
        w.WriteNumber("rtcpSent", RtcpSent);
        w.WriteNumber("droppedWrongPath", DroppedWrongPath);
        w.WriteNumber("droppedUnknown", DroppedUnknown);
        w.WriteNumber("droppedMalformed", DroppedMalformed);
        w.WriteNumber("droppedUnknownSsrc", DroppedUnknownSsrc);
        w.WriteNumber("srtpAuthFailed", SrtpAuthFailed);
        w.WriteNumber("srtpReplayed", SrtpReplayed);
        w.WriteNumber("srtpOther", SrtpOther);
    }
}
