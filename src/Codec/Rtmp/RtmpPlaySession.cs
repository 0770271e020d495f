using System.Buffers.Binary;

namespace Engine.Codec.Rtmp;

internal enum RtmpPlayState { Handshake, Connect, CreateStream, Play, Playing, Unpublished, Closed, Failed }

/// <summary>
/// The client side of an RTMP play (Adobe RTMP 1.0): the plain handshake, connect / createStream /
/// play (the stream name is the URL's last segment), set chunk size both ways, window
/// acknowledgement size and acknowledgements, ping replies, extended timestamps and aggregate
/// messages. Sans-IO: the host feeds what the server sent to <see cref="Receive"/> and sends
/// <see cref="Outgoing"/>; media, metadata and onStatus reach the handler as events during the
/// call. Bad input never throws: it fails the session with a reason (<see cref="Error"/>). Server
/// input is bounded (chunk size up to 64 KB, messages up to 4 MB, 16 chunk streams, 16 MB of
/// message buffers in all, 1 MB of unsent replies). Not thread-safe.
/// </summary>
internal sealed class RtmpPlaySession
{
    public const int HandshakeSize = RtmpClientHandshake.Size;
    public const int OutChunkSize = RtmpChunkWriter.ChunkSize;
    public const int MaxMessage = 4 << 20;
    public const uint ClientWindow = 2_500_000;
    public const uint BufferMillis = 3000;
    private const int MaxInChunkSize = 65536, MaxChunkStreams = 16, MaxMessageBytes = 16 << 20, MaxOutgoing = 1 << 20;
    private const int CsControl = 2, CsCommand = 3, CsStream = 8;
    private const byte TypeSetChunkSize = RtmpChunkReader.TypeSetChunkSize, TypeAck = 3, TypeUserControl = 4, TypeWindowAck = 5,
        TypePeerBandwidth = 6, TypeAudio = 8, TypeVideo = 9, TypeAmf3Data = 15, TypeAmf3Command = 17, TypeData = 18,
        TypeCommand = 20, TypeAggregate = 22;
    private const ushort UcStreamBegin = 0, UcStreamEof = 1, UcSetBufferLength = 3, UcPingRequest = 6, UcPingResponse = 7;
    private const double TxnConnect = 1, TxnCreateStream = 2, TxnPlay = 3, TxnDeleteStream = 4;
    private static readonly string[] StatusKeys = ["code", "level", "description"];

    private readonly RtmpUrl _url;
    private readonly IRtmpPlayHandler _handler;
    private readonly ByteBuffer _out, _scratch;
    private readonly RtmpClientInput _input = new(MaxChunkStreams, MaxMessage, MaxInChunkSize, MaxMessageBytes);
    private long _received, _acknowledged;
    private uint _ackWindow, _windowSent, _streamId;
    private bool _haveStream;

    public RtmpPlaySession(RtmpUrl url, IRtmpPlayHandler handler)
    {
        _url = url;
        _handler = handler;
        _out = new ByteBuffer(4096, MaxOutgoing);
        _scratch = new ByteBuffer(512, 8192);
    }

    public RtmpPlayState State { get; private set; } = RtmpPlayState.Handshake;
    public string? Error { get; private set; }
    public bool HasFailed => State == RtmpPlayState.Failed;
    /// <summary>Bytes to send; the host consumes what the socket took.</summary>
    public ByteBuffer Outgoing => _out;
    public uint StreamId => _streamId;
    public int InChunkSize => _input.Reader.ChunkSize;
    public uint AckWindow => _ackWindow;
    public long BytesReceived => _received;
    public long MessagesReceived => _input.Reader.Messages;
    public long MediaMessages { get; private set; }
    public long AggregateMessages { get; private set; }
    public long AcknowledgementsSent { get; private set; }
    public long PingsAnswered { get; private set; }
    /// <summary>Media on another message stream, before play was sent, or empty: ignored.</summary>
    public long MediaIgnored { get; private set; }
    /// <summary>Aggregate messages whose sub-messages did not add up (the rest of one is dropped).</summary>
    public long AggregatesMalformed { get; private set; }

    /// <summary>C0 and C1: the plain handshake (no digest), which nginx-rtmp, SRS and others accept.</summary>
    public void Start(uint epochMillis) => RtmpClientHandshake.WriteC0C1(_out, epochMillis);

    /// <summary>Bytes from the server, in order. Events go to the handler during the call; replies to <see cref="Outgoing"/>.</summary>
    public void Receive(ReadOnlySpan<byte> data)
    {
        if (State is RtmpPlayState.Failed or RtmpPlayState.Closed)
            return;
        _received += data.Length;
        while (!data.IsEmpty && !IsOver)
        {
            int room = _input.Append(data);
            if (room == 0)
            {
                Fail("RTMP: unparsable input from the server"); // a full buffer always holds a whole chunk
                return;
            }
            data = data[room..];
            Parse();
        }
        // RTMP 1.0 §5.4.3: acknowledge once a window of bytes has arrived since the last one.
        if (!IsOver && _ackWindow > 0 && _received - _acknowledged >= _ackWindow)
        {
            _acknowledged = _received;
            Span<byte> ack = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(ack, (uint)_received);
            if (Send(CsControl, TypeAck, 0, ack))
                AcknowledgementsSent++;
        }
    }

    /// <summary>deleteStream, sent before the host closes the socket; the session takes no more input.</summary>
    public void Finish()
    {
        if (IsOver)
            return;
        if (_haveStream)
            SendCommand("deleteStream", TxnDeleteStream, true, _streamId);
        State = RtmpPlayState.Closed;
    }

    public bool Fail(string error)
    {
        if (State != RtmpPlayState.Failed)
        {
            Error = error;
            State = RtmpPlayState.Failed;
        }
        return false;
    }

    private bool IsOver => State is RtmpPlayState.Failed or RtmpPlayState.Closed;

    private void Parse()
    {
        while (!IsOver)
        {
            switch (_input.Next(_out, out var message, out string? error))
            {
                case RtmpInputEvent.HandshakeReply:
                    SendConnect();
                    break;
                case RtmpInputEvent.Message:
                    OnMessage(message.Type, message.Timestamp, message.StreamId, message.Payload);
                    break;
                case RtmpInputEvent.Failed:
                    Fail(error!);
                    return;
                default:
                    return;
            }
        }
    }

    private void OnMessage(byte type, uint millis, uint streamId, ReadOnlySpan<byte> m)
    {
        switch (type)
        {
            case TypeUserControl:
                OnUserControl(m);
                return;
            case TypeWindowAck:
                if (m.Length >= 4)
                    _ackWindow = BinaryPrimitives.ReadUInt32BigEndian(m);
                return;
            case TypePeerBandwidth:
                // §5.4.5: answer with our window when it differs from the one we last sent.
                if (m.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(m) is uint bw and > 0 && bw != _windowSent)
                    SendWindowAck(bw);
                return;
            case TypeAudio:
            case TypeVideo:
                OnMedia(type, millis, streamId, m);
                return;
            case TypeData:
                OnData(millis, m);
                return;
            case TypeAmf3Data:
                if (!m.IsEmpty)
                    OnData(millis, m[1..]);
                return;
            case TypeCommand:
                OnCommand(m);
                return;
            case TypeAmf3Command:
                if (!m.IsEmpty)
                    OnCommand(m[1..]);
                return;
            case TypeAggregate:
                OnAggregate(millis, streamId, m);
                return;
            default:
                return; // acknowledgements and the rest: nothing a player must do
        }
    }

    private void OnUserControl(ReadOnlySpan<byte> m)
    {
        if (m.Length < 2)
            return;
        switch (BinaryPrimitives.ReadUInt16BigEndian(m))
        {
            case UcPingRequest when m.Length >= 6:
            {
                Span<byte> pong = stackalloc byte[6];
                BinaryPrimitives.WriteUInt16BigEndian(pong, UcPingResponse);
                m.Slice(2, 4).CopyTo(pong[2..]);
                if (Send(CsControl, TypeUserControl, 0, pong))
                    PingsAnswered++;
                return;
            }
            case UcStreamEof when m.Length >= 6 && _haveStream && BinaryPrimitives.ReadUInt32BigEndian(m[2..]) == _streamId:
                Emit(RtmpPlayEventKind.PlayStop, 0, default);
                return;
            case UcStreamBegin:
            default:
                return;
        }
    }

    private void OnMedia(byte type, uint millis, uint streamId, ReadOnlySpan<byte> m)
    {
        if (m.IsEmpty || !_haveStream || streamId != _streamId || State is not (RtmpPlayState.Play or RtmpPlayState.Playing or RtmpPlayState.Unpublished))
        {
            MediaIgnored++;
            return;
        }
        MediaMessages++;
        Emit(type == TypeAudio ? RtmpPlayEventKind.Audio : RtmpPlayEventKind.Video, millis, m);
    }

    // RTMP 1.0 §7.1.6, aggregate message: FLV tags (11-byte header, body, 4-byte back pointer); the
    // first sub-message's time maps to the aggregate's, the others keep their offsets from it.
    private void OnAggregate(uint millis, uint streamId, ReadOnlySpan<byte> m)
    {
        AggregateMessages++;
        bool first = true;
        uint firstMillis = 0;
        while (m.Length >= 11 && !IsOver)
        {
            int tagType = m[0] & 0x1F;
            int size = m[1] << 16 | m[2] << 8 | m[3];
            uint subMillis = (uint)(m[4] << 16 | m[5] << 8 | m[6]) | (uint)m[7] << 24;
            if (size > m.Length - 11)
            {
                AggregatesMalformed++;
                return;
            }
            if (first)
            {
                firstMillis = subMillis;
                first = false;
            }
            uint t = millis + (subMillis - firstMillis);
            var body = m.Slice(11, size);
            if (tagType is TypeAudio or TypeVideo)
                OnMedia((byte)tagType, t, streamId, body);
            else if (tagType == TypeData)
                OnData(t, body);
            m = m[Math.Min(m.Length, 11 + size + 4)..];
        }
        if (!m.IsEmpty)
            AggregatesMalformed++;
    }

    private void OnData(uint millis, ReadOnlySpan<byte> m)
    {
        if (RtmpPlayMetadata.TryRead(m, out var metadata))
            Emit(RtmpPlayEventKind.Metadata, millis, m, metadata);
    }

    private void OnCommand(ReadOnlySpan<byte> m)
    {
        if (!Amf0.TryReadString(ref m, out string name))
            return;
        Amf0.TryReadNumber(ref m, out double txn);
        switch (name)
        {
            case "_result" when txn == TxnConnect && State == RtmpPlayState.Connect:
                SendWindowAck(ClientWindow);
                SendCommand("createStream", TxnCreateStream, false, 0);
                State = RtmpPlayState.CreateStream;
                return;
            case "_result" when txn == TxnCreateStream && State == RtmpPlayState.CreateStream:
                if (!Amf0.TrySkip(ref m) || !Amf0.TryReadNumber(ref m, out double id) || !(id >= 0 && id <= uint.MaxValue))
                {
                    Fail("RTMP: createStream result without a stream id");
                    return;
                }
                _streamId = (uint)id;
                _haveStream = true;
                SendPlay();
                State = RtmpPlayState.Play;
                return;
            case "_error" when txn is TxnConnect or TxnCreateStream or TxnPlay:
            {
                Amf0.TrySkip(ref m);
                Span<string?> v = new string?[3];
                Amf0.TryReadObjectStrings(ref m, StatusKeys, v);
                Fail($"RTMP server refused {(txn == TxnConnect ? "connect" : txn == TxnCreateStream ? "createStream" : "play")}: {v[0] ?? "error"} {v[2]}".TrimEnd());
                return;
            }
            case "onStatus":
            {
                Amf0.TrySkip(ref m); // the null command object
                Span<string?> v = new string?[3];
                if (!Amf0.TryReadObjectStrings(ref m, StatusKeys, v))
                    return;
                OnStatus(v[0], v[1], v[2]);
                return;
            }
            case "close":
                Fail("RTMP server closed the connection");
                return;
        }
    }

    private void OnStatus(string? code, string? level, string? description)
    {
        switch (code)
        {
            case "NetStream.Play.Reset":
                Emit(RtmpPlayEventKind.PlayReset, 0, default);
                return;
            case "NetStream.Play.Start":
                if (State == RtmpPlayState.Play)
                    State = RtmpPlayState.Playing;
                Emit(RtmpPlayEventKind.PlayStart, 0, default);
                return;
            case "NetStream.Play.PublishNotify":
                if (State == RtmpPlayState.Unpublished)
                    State = RtmpPlayState.Playing;
                Emit(RtmpPlayEventKind.PublishNotify, 0, default);
                return;
            case "NetStream.Play.UnpublishNotify":
                if (State == RtmpPlayState.Playing)
                    State = RtmpPlayState.Unpublished;
                Emit(RtmpPlayEventKind.UnpublishNotify, 0, default);
                return;
            case "NetStream.Play.Stop":
            case "NetStream.Play.Complete":
                Emit(RtmpPlayEventKind.PlayStop, 0, default);
                return;
            case "NetStream.Play.StreamNotFound":
                Emit(RtmpPlayEventKind.StreamNotFound, 0, default);
                Fail($"RTMP server: {code} {description}".TrimEnd());
                return;
            default:
                if (level == "error")
                    Fail($"RTMP server: {code ?? "error"} {description}".TrimEnd());
                return;
        }
    }

    private void Emit(RtmpPlayEventKind kind, uint millis, ReadOnlySpan<byte> payload, in RtmpPlayMetadata metadata = default)
    {
        if (!IsOver)
            _handler.OnEvent(new RtmpPlayEvent(kind, millis, payload, metadata));
    }

    private void SendConnect()
    {
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(size, OutChunkSize);
        Send(CsControl, TypeSetChunkSize, 0, size);
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, "connect");
        Amf0.WriteNumber(b, TxnConnect);
        Amf0.WriteObjectStart(b);
        Amf0.WriteKey(b, "app"); Amf0.WriteString(b, _url.App);
        Amf0.WriteKey(b, "flashVer"); Amf0.WriteString(b, "LNX 9,0,124,2");
        Amf0.WriteKey(b, "tcUrl"); Amf0.WriteString(b, _url.TcUrl);
        Amf0.WriteKey(b, "fpad"); Amf0.WriteBoolean(b, false);
        Amf0.WriteKey(b, "capabilities"); Amf0.WriteNumber(b, 15);
        Amf0.WriteKey(b, "audioCodecs"); Amf0.WriteNumber(b, 0x0400); // AAC (SUPPORT_SND_AAC)
        Amf0.WriteKey(b, "videoCodecs"); Amf0.WriteNumber(b, 0x0080); // H.264 (SUPPORT_VID_H264)
        Amf0.WriteKey(b, "videoFunction"); Amf0.WriteNumber(b, 1);
        Amf0.WriteObjectEnd(b);
        Send(CsCommand, TypeCommand, 0, b.Span);
        State = RtmpPlayState.Connect;
    }

    private void SendPlay()
    {
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, "play");
        Amf0.WriteNumber(b, TxnPlay);
        Amf0.WriteNull(b);
        Amf0.WriteString(b, _url.Stream);
        Amf0.WriteNumber(b, -2000); // live, else recorded (what ffmpeg, the legacy player, sends)
        Send(CsStream, TypeCommand, _streamId, b.Span);
        // §7.1.7 SetBufferLength: how much the client buffers, for this stream.
        Span<byte> buffer = stackalloc byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(buffer, UcSetBufferLength);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[2..], _streamId);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[6..], BufferMillis);
        Send(CsControl, TypeUserControl, 0, buffer);
    }

    private void SendWindowAck(uint size)
    {
        Span<byte> w = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(w, size);
        if (Send(CsControl, TypeWindowAck, 0, w))
            _windowSent = size;
    }

    private void SendCommand(string name, double txn, bool withNumber, double number)
    {
        var b = _scratch;
        b.Clear();
        Amf0.WriteString(b, name);
        Amf0.WriteNumber(b, txn);
        Amf0.WriteNull(b);
        if (withNumber)
            Amf0.WriteNumber(b, number);
        Send(CsCommand, TypeCommand, 0, b.Span);
    }

    /// <summary>One message, fmt 0 header then fmt 3 chunks of <see cref="OutChunkSize"/>; false (and failed) when replies are not being sent.</summary>
    private bool Send(int csid, byte type, uint streamId, ReadOnlySpan<byte> payload)
    {
        if (!_out.CanAppend(RtmpChunkWriter.MessageSize(payload.Length, 0)))
            return Fail($"RTMP: {MaxOutgoing >> 20} MB of replies to the server unsent");
        RtmpChunkWriter.Write(_out, csid, type, streamId, 0, payload, default); // control and commands carry time 0
        return true;
    }
}
