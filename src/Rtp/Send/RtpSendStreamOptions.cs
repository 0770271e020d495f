namespace Engine.Rtp.Send;

/// <summary>Per-stream settings of an <see cref="RtpSendStream"/>, fixed at construction.</summary>
public sealed class RtpSendStreamOptions
{
    public uint Ssrc { get; init; }
    public byte PayloadType { get; init; }
    public int ClockRate { get; init; } = 90_000;

    /// <summary>RTX (RFC 4588) SSRC and payload type; retransmissions are plain resends when null.</summary>
    public uint? RtxSsrc { get; init; }
    public byte RtxPayloadType { get; init; }

    /// <summary>
    /// Packets kept for retransmission; with <see cref="MaxPacketSize"/> this bounds the history's
    /// bytes. 1024 × 1200 B holds 1 s of video up to about 9.8 Mbit/s; audio needs far fewer
    /// (0.5 s of 20 ms Opus is 25).
    /// </summary>
    public int HistoryPackets { get; init; } = 1024;

    /// <summary>
    /// Allocates the own payload slots (<see cref="HistoryPackets"/> × <see cref="MaxPacketSize"/>)
    /// at construction; false for a stream fed only by <see cref="RtpSendStream.WriteShared"/>, which
    /// then allocates them only if an own packet ever comes.
    /// </summary>
    public bool PreallocatePayloads { get; init; } = true;

    /// <summary>Largest RTP packet the stream writes (header, extensions, payload), before RTX and SRTP.</summary>
    public int MaxPacketSize { get; init; } = 1200 - 2 - 10;

    /// <summary>The same packet is resent at most once per max(this, 3/4 of the last RTT).</summary>
    public long MinResendIntervalMicros { get; init; } = 20_000;

    /// <summary>NTP time minus nowMicros, in microseconds: the SR's wall clock (RFC 3550 §6.4.1).</summary>
    public long NtpOffsetMicros { get; init; }

    /// <summary>Seeds the first sequence numbers and the SR interval jitter (a random seed when null).</summary>
    public int? Seed { get; init; }

    /// <summary>Mean SR interval; each interval is drawn from [0.5, 1.5] × this (RFC 3550 §6.3.1).</summary>
    public long SenderReportIntervalMicros { get; init; } = 1_000_000;

    /// <summary>Packets the pacer holds; used when no pacer is passed.</summary>
    public int PacerCapacity { get; init; } = 2048;
}
