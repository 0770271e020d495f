using System.Text.Json;
using Engine.Dtls;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;
using Engine.Rtp.Rtcp;
using Engine.Srtp;

namespace Engine.Host.Sessions;

/// <summary>
/// One browser publishing to us: ICE-lite, DTLS-SRTP and the RTP receive pipelines composed
/// behind the sans-IO contract of <see cref="IMediaSession"/>. No socket, thread or clock in here:
/// the media loop drives it with datagrams and time.
/// </summary>
public sealed class PublishSession : IMediaSession, IEncodedFrameSink
{
    private const long RtcpIntervalMicros = 200_000; // receiver reports and REMB, as the legacy gateway
    private const long TwccIntervalMicros = 50_000; // transport-wide feedback every 50-100 ms
    private static readonly byte[] Cname = "engine"u8.ToArray();

    private readonly IceLiteAgent _ice;
    private readonly DtlsEndpoint _dtls;
    private readonly RtpReceiveStream[] _streams;
    private readonly NegotiatedTrack[] _tracks;
    private readonly uint[] _ssrcOfTrack;
    private readonly RtpHeaderExtensionMap _extensions = new();
    private readonly int _midExtensionId, _twccExtensionId;
    private readonly TransportFeedbackBuilder? _twcc;
    private readonly TransmitQueue _out = new();
    private readonly SessionOptions _options;
    private readonly IEncodedFrameSink _sink;
    private readonly IRtpPacketTap? _tap;
    private readonly BurstLoss? _loss;
    private readonly uint _localSsrc;
    private SrtpSession? _srtp;
    private SeqNoUnwrapper _twccUnwrapper;
    private long _nextRtcpMicros = long.MaxValue, _nextTwccMicros = long.MaxValue;
    private bool _mediaStarted;
    private volatile string? _closeReason;
    private volatile bool _closeRequested;
    private readonly List<Playback.PlaySession> _players = new();
    private readonly Playback.KeyframeRequestCoalescer _keyframeRequests = new();
    private bool _removed;

    public PublishSession(string id, string stream, string signaling, PublishNegotiation.Result negotiation, string localUfrag, string localPwd,
        DtlsCertificate certificate, IEncodedFrameSink sink, SessionOptions options, long nowMicros)
    {
        Id = id;
        Stream = stream;
        Signaling = signaling;
        LocalUfrag = localUfrag;
        CreatedMicros = nowMicros;
        _options = options;
        _sink = sink;
        _tap = sink as IRtpPacketTap;
        _tracks = negotiation.Tracks.ToArray();
        _ice = new IceLiteAgent(localUfrag, localPwd, negotiation.RemoteUfrag, nowMicros);
        var fingerprint = negotiation.RemoteFingerprints.FirstOrDefault(f => f.Algorithm == "sha-256") ?? negotiation.RemoteFingerprints[0];
        if (!DtlsFingerprint.TryParse(fingerprint.ToString(), out var remoteFingerprint))
            throw new ArgumentException("unusable remote fingerprint: " + fingerprint);
        _dtls = new DtlsEndpoint(negotiation.WeAreDtlsClient ? DtlsRole.Client : DtlsRole.Server, certificate,
            new DtlsOptions { RemoteFingerprint = remoteFingerprint });
        foreach (var (uri, extId) in negotiation.ExtensionIds)
            _extensions.Register(extId, uri);
        _midExtensionId = negotiation.ExtensionIds.GetValueOrDefault(PublishNegotiation.MidUri);
        _twccExtensionId = negotiation.ExtensionIds.GetValueOrDefault(PublishNegotiation.TransportCcUri);
        if (_twccExtensionId != 0)
            _twcc = new TransportFeedbackBuilder();
        _streams = new RtpReceiveStream[_tracks.Length];
        _ssrcOfTrack = new uint[_tracks.Length];
        for (int i = 0; i < _tracks.Length; i++)
            _streams[i] = new RtpReceiveStream(CodecOf(_tracks[i].Codec), _tracks[i].ClockRate, i, this, useNack: _tracks[i].Kind == MediaKind.Video);
        _localSsrc = (uint)Random.Shared.Next(1, int.MaxValue);
        if (options.SimulateLoss)
            _loss = new BurstLoss(Random.Shared.Next());
    }

    public string Id { get; }
    public string Stream { get; }
    public string Signaling { get; }
    public string LocalUfrag { get; }
    public long CreatedMicros { get; }
    public SessionCounters Counters { get; } = new();
    public IReadOnlyList<NegotiatedTrack> Tracks => _tracks;
    public NetAddress? SelectedRemote => _ice.Selected;
    public bool IsClosed => _closeReason != null;
    public string? CloseReason => _closeReason;
    public DtlsState DtlsState => _dtls.State;
    public bool MediaStarted => _mediaStarted;

    /// <summary>Raised on the media thread at the first frame.</summary>
    public Action<PublishSession>? OnMediaStarted { get; set; }
    /// <summary>Raised on the media thread after the session left the loop, with the reason.</summary>
    public Action<PublishSession, string>? OnClosed { get; set; }

    /// <summary>Marks a session for the loop to flush in this batch (the loop's own, loop thread only): players touched by a forwarded packet, this one after a keyframe request.</summary>
    public Action<IMediaSession>? MarkDirty { get; set; }

    /// <summary>Players on the loop; read from other threads only as a count.</summary>
    public int PlayerCount => _players.Count;
    public Playback.KeyframeRequestCoalescer KeyframeRequests => _keyframeRequests;

    /// <summary>Loop thread: a player joins; false when this session already left the loop.</summary>
    public bool AttachPlayer(Playback.PlaySession player)
    {
        if (_removed || IsClosed)
            return false;
        _players.Add(player);
        return true;
    }

    /// <summary>Loop thread.</summary>
    public void DetachPlayer(Playback.PlaySession player) => _players.Remove(player);

    /// <summary>Loop thread: a player joined or asked for a keyframe; requests coalesce to one per 500 ms.</summary>
    public void RequestKeyframe(long nowMicros)
    {
        if (_removed || !_keyframeRequests.TryRequest(nowMicros))
            return;
        for (int i = 0; i < _streams.Length; i++)
            if (_tracks[i].Kind == MediaKind.Video)
                _streams[i].RequestKeyframe();
        MarkDirty?.Invoke(this);
    }

    /// <summary>Thread-safe: the signaling side hangs up; the loop removes the session at its next wake-up.</summary>
    public void RequestClose(string reason)
    {
        _closeRequested = true;
        _closeReason ??= reason;
    }

    public long NextTimeoutMicros
    {
        get
        {
            if (_closeRequested)
                return 0;
            long next = Math.Min(_ice.ConsentDeadlineMicros, _dtls.NextTimeoutMicros);
            next = Math.Min(next, _nextRtcpMicros);
            if (_twcc is { PendingCount: > 0 })
                next = Math.Min(next, _nextTwccMicros);
            foreach (var s in _streams)
            {
                next = Math.Min(next, s.NextTimeoutMicros(0));
                next = Math.Min(next, s.NextPliMicros(_options.PliIntervalMicros));
            }
            return next;
        }
    }

    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
    {
        if (IsClosed)
            return;
        switch (DatagramDemux.Classify(datagram))
        {
            case DatagramKind.Stun:
                HandleStun(datagram, from, nowMicros);
                break;
            case DatagramKind.Dtls:
                if (_ice.Selected != from)
                {
                    Counters.DroppedWrongPath++;
                    return;
                }
                _dtls.HandleDatagram(datagram, nowMicros);
                AfterDtls(nowMicros);
                break;
            case DatagramKind.Rtp:
                HandleRtp(datagram, from, nowMicros);
                break;
            case DatagramKind.Rtcp:
                HandleRtcp(datagram, from, nowMicros);
                break;
            default:
                Counters.DroppedUnknown++;
                break;
        }
    }

    private void HandleStun(ReadOnlySpan<byte> datagram, in NetAddress from, long nowMicros)
    {
        var slot = _out.Reserve();
        var result = _ice.HandleStun(datagram, from, nowMicros, slot, out int length);
        if (length > 0)
            _out.Commit(length, from);
        if (result == IceCheckResult.Answered && _dtls.Role == DtlsRole.Client && _dtls.State == Engine.Dtls.DtlsState.New)
        {
            _dtls.Start(nowMicros);
            AfterDtls(nowMicros);
        }
    }

    private void AfterDtls(long nowMicros)
    {
        if (_ice.Selected is { } to)
        {
            for (int i = 0; i < 64; i++)
            {
                var slot = _out.Reserve();
                if (slot.IsEmpty || !_dtls.TryPollTransmit(slot, out int n))
                    break;
                _out.Commit(n, to);
            }
        }
        if (_dtls.State == Engine.Dtls.DtlsState.Connected && _srtp == null)
        {
            Span<byte> km = stackalloc byte[88];
            if (!_dtls.TryExportSrtpKeyingMaterial(km, out int kmLength))
            {
                Close("DTLS: no SRTP keying material");
                return;
            }
            _srtp = new SrtpSession((SrtpProfile)_dtls.SrtpProfile, km[..kmLength], isClient: _dtls.Role == DtlsRole.Client);
            _nextRtcpMicros = nowMicros + RtcpIntervalMicros;
            _nextTwccMicros = nowMicros + TwccIntervalMicros;
        }
        else if (_dtls.State is Engine.Dtls.DtlsState.Failed)
            Close($"DTLS failed: {_dtls.FailureReason}");
        else if (_dtls.State is Engine.Dtls.DtlsState.Closed)
            Close("DTLS close_notify");
    }

    private void HandleRtp(Span<byte> datagram, in NetAddress from, long nowMicros)
    {
        if (_srtp == null || _ice.Selected != from)
        {
            Counters.DroppedWrongPath++;
            return;
        }
        if (_loss != null && RtpPacketView.TryRead(datagram, out var clear) && _loss.ShouldDrop(IsVideoPayload(clear.PayloadType)))
            return;
        var r = _srtp.UnprotectRtp(datagram, out int length);
        if (r != SrtpResult.Ok)
        {
            Counters.CountSrtp(r);
            return;
        }
        if (!RtpPacketView.TryRead(datagram[..length], out var packet))
        {
            Counters.DroppedMalformed++;
            return;
        }
        if (_twcc != null && packet.TryGetExtension(_twccExtensionId, out var twccData) && TransportSequenceNumber.TryRead(twccData, out ushort tseq))
            _twcc.AddReceivedPacket(_twccUnwrapper.Unwrap(tseq), nowMicros);
        int track = FindTrack(packet);
        if (track < 0)
        {
            Counters.DroppedUnknownSsrc++;
            return;
        }
        Counters.RtpPackets++;
        _tap?.OnRtpPacket(track, datagram[..length]);
        _streams[track].OnRtp(packet, nowMicros);
        if (_players.Count > 0)
            Forward(track, datagram[..length], packet, nowMicros);
    }

    private void Forward(int track, ReadOnlySpan<byte> rtp, in RtpPacketView packet, long nowMicros)
    {
        bool keyframeStart = false, detected = false;
        for (int i = 0; i < _players.Count; i++)
        {
            var player = _players[i];
            if (!detected && player.NeedsKeyframe(track))
            {
                keyframeStart = Playback.KeyframeDetector.IsKeyframeStart(_tracks[track].Codec, packet.Payload);
                detected = true;
            }
            player.Forward(track, rtp, keyframeStart, nowMicros);
            MarkDirty?.Invoke(player);
        }
    }

    /// <summary>SSRC first; a new SSRC is bound by its mid extension, else by payload type (RFC 8843 §9.2).</summary>
    private int FindTrack(in RtpPacketView packet)
    {
        uint ssrc = packet.Ssrc;
        for (int i = 0; i < _ssrcOfTrack.Length; i++)
            if (_ssrcOfTrack[i] == ssrc && ssrc != 0)
                return i;
        int track = -1;
        if (_midExtensionId != 0 && packet.TryGetExtension(_midExtensionId, out var mid))
        {
            for (int i = 0; i < _tracks.Length && track < 0; i++)
                if (AsciiEquals(mid, _tracks[i].Mid))
                    track = i;
        }
        for (int i = 0; i < _tracks.Length && track < 0; i++)
            if (_tracks[i].PayloadType == packet.PayloadType)
                track = i;
        if (track < 0 || (_ssrcOfTrack[track] != 0 && _ssrcOfTrack[track] != ssrc))
            return -1; // an RTX or second simulcast layer: not negotiated, dropped
        _ssrcOfTrack[track] = ssrc;
        return track;
    }

    private bool IsVideoPayload(int payloadType)
    {
        foreach (var t in _tracks)
            if (t.PayloadType == payloadType)
                return t.Kind == MediaKind.Video;
        return false;
    }

    private void HandleRtcp(Span<byte> datagram, in NetAddress from, long nowMicros)
    {
        if (_srtp == null || _ice.Selected != from)
        {
            Counters.DroppedWrongPath++;
            return;
        }
        var r = _srtp.UnprotectRtcp(datagram, out int length);
        if (r != SrtpResult.Ok)
        {
            Counters.CountSrtp(r);
            return;
        }
        if (!RtcpCompound.TryRead(datagram[..length], out var compound))
        {
            Counters.DroppedMalformed++;
            return;
        }
        Counters.RtcpPackets++;
        foreach (var p in compound)
        {
            if (p.PacketType == RtcpPacketType.SenderReport && SenderReportView.TryRead(p, out var sr))
            {
                for (int i = 0; i < _streams.Length; i++)
                    if (_ssrcOfTrack[i] == sr.SenderSsrc)
                        _streams[i].OnSenderReport(sr.NtpTimestamp, sr.RtpTimestamp, nowMicros);
            }
            else if (p.PacketType == RtcpPacketType.ExtendedReport && ExtendedReportView.TryRead(p, out var xr))
            {
                foreach (var dlrr in xr.DlrrSubBlocks)
                    if (dlrr.Ssrc == _localSsrc && dlrr.LastReceiverReport != 0)
                        OnRoundTrip(nowMicros, dlrr.LastReceiverReport, dlrr.DelaySinceLastReceiverReport);
            }
        }
    }

    /// <summary>RFC 3611 §4.5: RTT = now - LRR - DLRR, all in 1/65536 s (the middle 32 bits of NTP time).</summary>
    private void OnRoundTrip(long nowMicros, uint lastRr, uint delaySinceLastRr)
    {
        uint now = (uint)(SenderClock.MicrosToNtp(nowMicros) >> 16);
        uint rtt = now - lastRr - delaySinceLastRr;
        if (rtt > 65536 * 10)
            return; // more than 10 s: a stale or forged report
        RttMicros = rtt * 1_000_000L / 65536;
        foreach (var s in _streams)
            s.SetRttMicros(RttMicros);
    }

    /// <summary>The last measured round-trip time, or -1 before the first XR DLRR.</summary>
    public long RttMicros { get; private set; } = -1;

    public void HandleTimeout(long nowMicros)
    {
        if (IsClosed)
            return;
        if (_closeRequested)
        {
            Close(_closeReason ?? "ended");
            return;
        }
        if (_ice.ConsentExpired(nowMicros))
        {
            Close("ICE consent expired (no valid check for 30 s)");
            return;
        }
        if (nowMicros >= _dtls.NextTimeoutMicros)
        {
            _dtls.HandleTimeout(nowMicros);
            AfterDtls(nowMicros);
            if (IsClosed)
                return;
        }
        foreach (var s in _streams)
            s.HandleTimeout(nowMicros);
        if (_sink.TakeKeyframeRequest())
            foreach (var s in _streams)
                s.RequestKeyframe();
        if (_srtp == null || _ice.Selected is not { } to)
            return;
        SendFeedback(nowMicros, to);
    }

    private void SendFeedback(long nowMicros, in NetAddress to)
    {
        Span<ushort> lost = stackalloc ushort[128];
        for (int i = 0; i < _streams.Length; i++)
        {
            var s = _streams[i];
            int n = s.CollectNacks(nowMicros, lost);
            if (n > 0)
            {
                var nack = new GenericNack { SenderSsrc = _localSsrc, MediaSsrc = s.Ssrc, LostSequenceNumbers = lost[..n] };
                var slot = _out.Reserve();
                if (!slot.IsEmpty)
                    SendRtcp(slot, nack.Write(slot), to);
            }
            if (s.TakePliDue(nowMicros, _options.PliIntervalMicros))
            {
                var pli = new Pli { SenderSsrc = _localSsrc, MediaSsrc = s.Ssrc };
                var slot = _out.Reserve();
                if (!slot.IsEmpty)
                    SendRtcp(slot, pli.Write(slot), to);
            }
        }
        if (_twcc is { PendingCount: > 0 } && nowMicros >= _nextTwccMicros)
        {
            _nextTwccMicros = nowMicros + TwccIntervalMicros;
            for (int k = 0; k < 8 && _twcc.PendingCount > 0; k++)
            {
                var slot = _out.Reserve();
                if (slot.IsEmpty)
                    break;
                SendRtcp(slot, _twcc.Write(slot[..1100], _localSsrc, MediaSsrcForFeedback()), to);
            }
        }
        if (nowMicros >= _nextRtcpMicros)
        {
            _nextRtcpMicros = nowMicros + RtcpIntervalMicros;
            SendReceiverReport(nowMicros, to);
        }
    }

    private uint MediaSsrcForFeedback()
    {
        foreach (uint ssrc in _ssrcOfTrack)
            if (ssrc != 0)
                return ssrc;
        return 0;
    }

    // RFC 3550 §6.1: a compound starts with RR and carries SDES CNAME; REMB rides along (RFC 4585 §3.1).
    private void SendReceiverReport(long nowMicros, in NetAddress to)
    {
        var slot = _out.Reserve();
        if (slot.IsEmpty)
            return;
        Span<ReportBlock> blocks = stackalloc ReportBlock[_streams.Length];
        Span<uint> videoSsrcs = stackalloc uint[_streams.Length];
        int nb = 0, nv = 0;
        for (int i = 0; i < _streams.Length; i++)
        {
            if (_ssrcOfTrack[i] == 0)
                continue;
            blocks[nb++] = _streams[i].CreateReportBlock(nowMicros);
            if (_streams[i].IsVideo)
                videoSsrcs[nv++] = _ssrcOfTrack[i];
        }
        int o = new ReceiverReport { SenderSsrc = _localSsrc, ReportBlocks = blocks[..nb] }.Write(slot);
        o += new SourceDescription { Ssrc = _localSsrc, Cname = Cname }.Write(slot[o..]);
        // RFC 3611 §4.4: RRTR asks the sender for DLRR, which gives us the round-trip time (RTCP RR
        // only gives the sender its RTT, and a lite receiver sends no STUN requests to time).
        o += new ExtendedReport { SenderSsrc = _localSsrc, HasRrtr = true, RrtrNtpTimestamp = SenderClock.MicrosToNtp(nowMicros) }.Write(slot[o..]);
        if (_options.AutoBitrate && nv > 0)
        {
            // The delay-based estimator is the congestion-control issue's; until then REMB caps the sender.
            o += new Remb { SenderSsrc = _localSsrc, BitrateBps = (ulong)_options.MaxVideoBps, Ssrcs = videoSsrcs[..nv] }.Write(slot[o..]);
        }
        SendRtcp(slot, o, to);
    }

    private void SendRtcp(Span<byte> slot, int length, in NetAddress to)
    {
        if (length <= 0)
            return;
        var r = _srtp!.ProtectRtcp(slot, length, out int protectedLength);
        if (r != SrtpResult.Ok)
        {
            Counters.CountSrtp(r);
            return;
        }
        Counters.RtcpSent++;
        _out.Commit(protectedLength, to);
    }

    public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to) => _out.TryDequeue(destination, out length, out to);

    private void Close(string reason)
    {
        _closeReason ??= reason;
    }

    public void OnRemoved()
    {
        _removed = true;
        foreach (var player in _players)
        {
            player.OnPublisherLeft();
            MarkDirty?.Invoke(player);
        }
        if (_dtls.State == Engine.Dtls.DtlsState.Connected && _ice.Selected is { } to)
        {
            _dtls.Close(); // close_notify, flushed by the loop right after this call
            for (int i = 0; i < 4; i++)
            {
                var slot = _out.Reserve();
                if (slot.IsEmpty || !_dtls.TryPollTransmit(slot, out int n))
                    break;
                _out.Commit(n, to);
            }
        }
        _closeReason ??= "removed";
        try
        {
            _sink.OnEnd();
        }
        finally
        {
            _srtp?.Dispose();
            _dtls.Dispose();
            OnClosed?.Invoke(this, _closeReason);
        }
    }

    // IEncodedFrameSink: frames from our streams pass through to the real sink.
    void IEncodedFrameSink.OnFrame(int trackIndex, in EncodedFrame frame)
    {
        if (!_mediaStarted)
        {
            _mediaStarted = true;
            OnMediaStarted?.Invoke(this);
        }
        _sink.OnFrame(trackIndex, frame);
    }

    void IEncodedFrameSink.OnEnd() { }

    private static MediaCodec CodecOf(string name) => name switch
    {
        "H264" => MediaCodec.H264,
        "VP8" => MediaCodec.Vp8,
        "VP9" => MediaCodec.Vp9,
        _ => MediaCodec.Opus,
    };

    private static bool AsciiEquals(ReadOnlySpan<byte> bytes, string text)
    {
        if (bytes.Length != text.Length)
            return false;
        for (int i = 0; i < bytes.Length; i++)
            if (bytes[i] != text[i])
                return false;
        return true;
    }

    /// <summary>This session's part of /api/streams. Read from an HTTP thread: values may be a packet apart.</summary>
    public void WriteJson(Utf8JsonWriter w, long nowMicros)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("stream", Stream);
        w.WriteString("signaling", Signaling);
        w.WriteString("state", IsClosed ? "closed" : _srtp != null ? (_mediaStarted ? "media" : "connected") : _ice.Selected != null ? "dtls" : "ice");
        if (_ice.Selected is { } remote) w.WriteString("remote", remote.ToString()); else w.WriteNull("remote");
        w.WriteNumber("uptimeSeconds", Math.Round((nowMicros - CreatedMicros) / 1e6, 1));
        if (_srtp != null) w.WriteString("srtpProfile", _srtp.Profile.ToString());
        w.WriteStartArray("tracks");
        for (int i = 0; i < _tracks.Length; i++)
        {
            var t = _tracks[i];
            var s = _streams[i];
            var st = s.Statistics;
            w.WriteStartObject();
            w.WriteString("mid", t.Mid);
            w.WriteString("kind", t.Kind == MediaKind.Video ? "video" : "audio");
            w.WriteString("codec", t.Codec);
            if (s.H264Profile != null) w.WriteString("h264Profile", s.H264Profile);
            w.WriteNumber("ssrc", _ssrcOfTrack[i]);
            w.WriteNumber("packets", st.PacketsReceived);
            w.WriteNumber("bytes", st.BytesReceived);
            w.WriteNumber("frames", s.Frames);
            if (s.IsVideo)
            {
                w.WriteNumber("keyframes", s.Keyframes);
                w.WriteNumber("framesDropped", s.FramesDropped);
                w.WriteNumber("width", s.Width);
                w.WriteNumber("height", s.Height);
                w.WriteNumber("nacksSent", s.NacksSent);
                w.WriteNumber("nackRecovered", s.NackRecovered);
                w.WriteNumber("plisSent", s.PlisSent);
            }
            w.WriteNumber("packetsLost", st.CumulativeLost);
            w.WriteNumber("jitterMs", Math.Round(st.JitterMillis, 2));
            w.WriteNumber("senderReportsRejected", s.SenderReportsRejected);
            if (RttMicros >= 0) w.WriteNumber("rttMs", Math.Round(RttMicros / 1000.0, 2)); else w.WriteNull("rttMs");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (_sink is ISinkStatus status)
        {
            w.WritePropertyName("outputs");
            Engine.Host.Media.SinkStatusJson.Write(w, status);
        }
        w.WriteStartObject("counters");
        Counters.WriteJson(w);
        if (_loss != null) w.WriteNumber("simulatedLoss", _loss.Dropped);
        w.WriteNumber("iceChecks", _ice.Counters[IceCheckResult.Answered]);
        w.WriteNumber("iceBadIntegrity", _ice.Counters[IceCheckResult.BadIntegrity]);
        w.WriteNumber("iceWrongUsername", _ice.Counters[IceCheckResult.WrongUsername]);
        w.WriteNumber("dtlsRecordsDropped", _dtls.Counters.RecordsDroppedMalformed + _dtls.Counters.RecordsDroppedBadMac + _dtls.Counters.RecordsDroppedReplay);
        w.WriteNumber("transmitDropped", _out.Dropped);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
